"""Settings for the test suite: strict plugins, fast hashing, a shareable SQLite file.

The database comes from DATABASE_URL as in production (CI points it at PostgreSQL);
without it, SQLite in a file that worker subprocesses can open too.
"""

import os
import tempfile

os.environ.setdefault("ASSAY_PLUGINS_STRICT", "true")
os.environ.setdefault("DEBUG", "false")
# No connection pool in the suite: race tests hold 20 connections at once across a
# barrier (a pool of 4 would make them wait out its timeout), and each test's transaction
# pins one connection anyway. tests/core/test_serving.py runs gunicorn with the pool on.
os.environ.setdefault("ASSAY_DB_POOL_MAX_SIZE", "0")
# Rate limits far above what any test sends: tests share one cache (and one client address)
# and must not throttle each other; tests/accounts/test_throttles.py lowers them itself.
for _scope in ("USER", "ANON", "EXPENSIVE"):
    os.environ.setdefault(f"ASSAY_THROTTLE_{_scope}", "1000000/min")
# The tiny demo text model keeps the suite fast; SmolLM2 has its own service test
# (tests/generation/test_instruct_model.py), which converts it once into var/test-cache.
os.environ.setdefault("ASSAY_TEXT_DEMO_MODEL", "tiny")
os.environ.setdefault("ASSAY_MODELS_DIR", str(__import__("pathlib").Path(__file__)
                                              .resolve().parents[2] / "var" / "test-models"))

from assay.settings import *  # noqa: E402,F403
from assay.settings import DATABASES  # noqa: E402

# The dummy plugin (tests/dummy_plugin) registers in the test-only group: it is loaded
# here and never by `make run`, although `make test` installs it into the same venv.
ASSAY_PLUGIN_GROUPS = ["assay", "assay.testing"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so worker subprocesses can open it; one per test run.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"assay-test-{os.getpid()}.sqlite3")}
MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or tempfile.mkdtemp(prefix="assay-media-")
