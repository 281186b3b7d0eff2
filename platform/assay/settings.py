"""Django settings: every value read once from the environment via assay.conf.

The defaults run the embedded mode (SQLite, a serverless broker, files under var/); the
same code runs production with DATABASE_URL, CELERY_BROKER_URL and friends set.
"""

from __future__ import annotations

import re
from datetime import timedelta

import dj_database_url
from csp.constants import NONE, SELF

from assay.conf import (
    BASE_DIR,
    env,
    env_bool,
    env_int,
    env_json,
    env_list,
    path_setting,
    secret_key,
    var_path,
)
from assay.core.storage_config import media_storage

VAR_DIR = var_path()
SECRET_KEY = secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# HTTPS, from the environment: all off by default (the embedded mode serves plain HTTP on
# loopback); production turns them on (`manage.py check --deploy` then reports nothing).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$",  # kubelet probes speak plain HTTP
                          r"^metrics$"]  # so does Prometheus inside the cluster
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ValueError("SECURE_PROXY_SSL_HEADER must be HEADER,VALUE "
                     "(e.g. HTTP_X_FORWARDED_PROTO,https) or empty")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE")

# Every response carries a Content-Security-Policy that allows nothing inline: scripts and
# styles come from static files only (htmx is configured not to inject its own styles).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc as static files: no CDN
    "js_lib_htmx",
    "axes",  # sign-in lockout after repeated failures
    "assay.core",
    "assay.accounts",
    "assay.studio",
    "assay.generation",
    "assay.api",
    "assay.portal",
    "assay.audit",
    "governance.review",
    "governance.usage",
    "governance.provenance",
    "governance.publishing",
]

#: The platform's own hook implementations, registered in every plugin manager and never
#: skipped: how the domain (submission, job finish) reaches governance (quotas, usage,
#: checks, signing) without importing it. See assay.plugins.manager.build_plugins.
ASSAY_BUILTIN_PLUGINS = [
    "governance.usage.hooks",
    "governance.review.hooks",
    "governance.provenance.hooks",
]

#: Entry-point groups plugins are loaded from. Third-party and first-party plugins use
#: ``assay``; test-only distributions use ``assay.testing``, added by the test settings.
ASSAY_PLUGIN_GROUPS = ["assay"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, with DEBUG off too
    "assay.api.middleware.RefuseNulMiddleware",  # before any view or query sees a NUL
    "csp.middleware.CSPMiddleware",
    # Probes and /metrics by pod IP: answered before CommonMiddleware checks ALLOWED_HOSTS
    # (the middlewares above never read the host for these paths; they add their headers).
    "assay.api.cluster_endpoints.ClusterEndpointsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "assay.portal.middleware.HtmxSessionEndedMiddleware",  # htmx + ended session: a 401
    "assay.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into a 429 page
]

ROOT_URLCONF = "assay.urls"
WSGI_APPLICATION = "assay.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
# Axes first: it refuses a locked-out username+address before any backend checks the
# password. It needs the request, which Django's login forms (portal and admin) pass.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "assay.accounts.oidc.LocalPasswordGuard",  # no password sign-in for single sign-on users
    "django.contrib.auth.backends.ModelBackend",
    "assay.accounts.oidc.ProviderBackend",  # OIDC sign-in; answers only on its callback
]
LOGIN_URL = "portal:login"

# Single sign-on (OpenID Connect, mozilla-django-oidc): off unless a client id is set.
# Endpoints left empty are read from the issuer's discovery document on first use.
ASSAY_OIDC_ENABLED = bool(env("ASSAY_OIDC_CLIENT_ID"))
ASSAY_OIDC_PROVIDER_NAME = env("ASSAY_OIDC_PROVIDER_NAME")
ASSAY_OIDC_ISSUER = env("ASSAY_OIDC_ISSUER").rstrip("/")
ASSAY_OIDC_GROUPS_CLAIM = env("ASSAY_OIDC_GROUPS_CLAIM")
ASSAY_OIDC_ROLE_MAP = env_json("ASSAY_OIDC_ROLE_MAP")
if not isinstance(ASSAY_OIDC_ROLE_MAP, dict):
    raise ValueError("ASSAY_OIDC_ROLE_MAP must be a JSON object: {group: role or "
                     "{project slug: role}}")
for _group, _target in ASSAY_OIDC_ROLE_MAP.items():
    if not (_target in ("admin", "auditor") or (isinstance(_target, dict) and all(
            r in ("creator", "reviewer", "owner") for r in _target.values()))):
        raise ValueError(f"ASSAY_OIDC_ROLE_MAP: group {_group!r} must map to \"admin\", "
                         "\"auditor\" or {project slug: \"creator\"/\"reviewer\"/\"owner\"}")
ASSAY_OIDC_REQUIRE_MAPPED_GROUP = env_bool("ASSAY_OIDC_REQUIRE_MAPPED_GROUP")
OIDC_RP_CLIENT_ID = env("ASSAY_OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env("ASSAY_OIDC_CLIENT_SECRET")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("ASSAY_OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env("ASSAY_OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env("ASSAY_OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env("ASSAY_OIDC_JWKS_ENDPOINT")
OIDC_RP_SIGN_ALGO = env("ASSAY_OIDC_SIGN_ALGO")
OIDC_RP_SCOPES = env("ASSAY_OIDC_SCOPES")
OIDC_USE_PKCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_callback"
OIDC_STORE_ID_TOKEN = True  # for the provider's end-session hint at sign-out
OIDC_OP_LOGOUT_URL_METHOD = "assay.accounts.oidc.provider_logout_url"
OIDC_OP_END_SESSION_ENDPOINT = ""  # from discovery
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_default_db = f"sqlite:///{var_path('assay.sqlite3')}"
DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL", _default_db), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker and web server share the file: wait for locks instead of failing at once, and
    # take the write lock at BEGIN so two writers never deadlock upgrading a read lock.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
ASSAY_DB_POOL_MAX_SIZE = env_int("ASSAY_DB_POOL_MAX_SIZE")
ASSAY_DB_POOL_MIN_SIZE = env_int("ASSAY_DB_POOL_MIN_SIZE")
ASSAY_DB_POOL_TIMEOUT = env_int("ASSAY_DB_POOL_TIMEOUT")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and ASSAY_DB_POOL_MAX_SIZE:
    # One bounded psycopg pool per process, shared by its threads: without it every
    # request thread kept its own connection for 60 s, and 50 concurrent submissions
    # exhausted the server's connections. A pool requires CONN_MAX_AGE = 0.
    if not 0 <= ASSAY_DB_POOL_MIN_SIZE <= ASSAY_DB_POOL_MAX_SIZE:
        raise ValueError(f"ASSAY_DB_POOL_MIN_SIZE={ASSAY_DB_POOL_MIN_SIZE} must be between 0 "
                         f"and ASSAY_DB_POOL_MAX_SIZE={ASSAY_DB_POOL_MAX_SIZE}")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": ASSAY_DB_POOL_MIN_SIZE, "max_size": ASSAY_DB_POOL_MAX_SIZE,
        "timeout": float(ASSAY_DB_POOL_TIMEOUT)}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # the pool checks before handing out
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = path_setting("STATIC_ROOT", var_path("static"))
MEDIA_URL = "media/"
MEDIA_ROOT = path_setting("MEDIA_ROOT", var_path("media"))
# Media (assets, signed files, sidecars): MEDIA_ROOT or an S3-compatible bucket, from
# ASSAY_MEDIA_STORAGE; a bad value is refused here, at start-up (assay.core.storage_config).
STORAGES = {
    "default": media_storage(),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves static files in every mode, DEBUG on or off. Production collects them
# into STATIC_ROOT with hashed, compressed names; the embedded mode finds them in the apps.
ASSAY_STATIC_MANIFEST = env_bool("ASSAY_STATIC_MANIFEST")
if ASSAY_STATIC_MANIFEST:
    STORAGES["staticfiles"] = {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
WHITENOISE_USE_FINDERS = not ASSAY_STATIC_MANIFEST
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing one



def _throttle_rate(name: str) -> str | None:
    """A rate such as 600/min, checked at start-up (``off``: no limit; an empty value
    means the default, like every setting)."""
    value = env(name).strip()
    if value.lower() == "off":
        return None
    if not re.fullmatch(r"[0-9]{1,9}/(s|sec|second|m|min|minute|h|hour|d|day)", value) or (
            int(value.split("/")[0]) < 1):
        raise ValueError(f"{name}={value!r} is not a rate; write N/second, N/min, N/hour or "
                         "N/day with N at least 1, or off for no limit")
    return value


# The cache the rate limits count in: Redis shared by every process in production; a
# per-process memory cache in the embedded mode (one web process).
ASSAY_CACHE_URL = env("ASSAY_CACHE_URL").strip()
if ASSAY_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": ASSAY_CACHE_URL,
        "KEY_PREFIX": "assay",
        # Fail fast: a cache that cannot be reached lets calls through (throttles log it).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }}
elif ASSAY_CACHE_URL in ("", "locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "LOCATION": "assay"}}
else:
    raise ValueError(f"ASSAY_CACHE_URL={ASSAY_CACHE_URL!r}: use redis://host:6379/N (or "
                     "rediss://), or leave it empty for a per-process memory cache")
ASSAY_NUM_PROXIES = env_int("ASSAY_NUM_PROXIES")
#: URL names whose unsafe methods count against the "expensive" rate as well.
ASSAY_THROTTLE_EXPENSIVE_ROUTES = ("api:generation-list", "api:provenance-verify")

# Sign-in lockout (django-axes): the portal's and the admin's login forms. Counted per
# username and client address together, so one attacker cannot lock a user out from
# everywhere; a success resets the count. Lockouts are audited (assay.accounts.signals).
AXES_FAILURE_LIMIT = env_int("ASSAY_LOGIN_FAILURE_LIMIT")
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ASSAY_LOGIN_COOLOFF_MINUTES"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "assay.accounts.throttles.client_ip"
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the audit log already
AXES_ENABLE_ADMIN = False  # unlocking by deleting rows there would leave no audit event
AXES_VERBOSE = False  # no start-up banner on every command

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "assay.accounts.authentication.APITokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "assay.core.pagination.Pagination",  # bounded limit/offset
    "PAGE_SIZE": 50,
    # Rate limits (assay.accounts.throttles): per token or user, per anonymous address,
    # and stricter for expensive writes; 429 with Retry-After. Counted in the shared cache.
    "DEFAULT_THROTTLE_CLASSES": [
        "assay.accounts.throttles.TokenOrUserThrottle",
        "assay.accounts.throttles.AnonymousThrottle",
        "assay.accounts.throttles.ExpensiveWriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": _throttle_rate("ASSAY_THROTTLE_USER"),
        "anon": _throttle_rate("ASSAY_THROTTLE_ANON"),
        "expensive": _throttle_rate("ASSAY_THROTTLE_EXPENSIVE"),
    },
    "NUM_PROXIES": ASSAY_NUM_PROXIES,
    "EXCEPTION_HANDLER": "assay.core.rest.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only, parsed strictly (no NaN, 1e400, NUL, lone surrogates, deep nesting); views
    # that take uploads name MultiPartParser themselves.
    "DEFAULT_PARSER_CLASSES": ["assay.core.inputs.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "assay.core.rest.AssaySchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# The OpenAPI 3 schema at /api/v1/schema/, browsed with Swagger UI and Redoc from the
# sidecar package's static files.
SPECTACULAR_SETTINGS = {
    "TITLE": "Assay API",
    "DESCRIPTION": "Governed generation, review, provenance and audit. Authenticate with "
                   "`Authorization: Bearer <token>` (`manage.py issue_token`). Every error "
                   "is `{detail, code, errors}`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema component per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "ModalityEnum": "assay.studio.choices.Modality",
        "JobStatusEnum": "assay.generation.choices.JobStatus",
        "QuotaScopeEnum": "governance.usage.models.QuotaScope",
        "QuotaMetricEnum": "governance.usage.models.Metric",
        "TokenScopeEnum": "assay.accounts.choices.TokenScope",
        "TokenStatusEnum": "assay.accounts.choices.TokenStatus",
        "ReviewStatusEnum": "governance.review.choices.ReviewStatus",
    },
}

# --- Assay ---------------------------------------------------------------------------
ASSAY_MODELS_DIR = path_setting("ASSAY_MODELS_DIR", var_path("models"))
ASSAY_DEVICE = env("ASSAY_DEVICE")
ASSAY_TORCH_THREADS = env_int("ASSAY_TORCH_THREADS")
ASSAY_MODEL_CACHE_MB = env_int("ASSAY_MODEL_CACHE_MB")
ASSAY_PLUGINS_STRICT = env_bool("ASSAY_PLUGINS_STRICT")
ASSAY_MAX_PROMPT_CHARS = env_int("ASSAY_MAX_PROMPT_CHARS")
ASSAY_MAX_VARIABLE_CHARS = env_int("ASSAY_MAX_VARIABLE_CHARS")
ASSAY_MAX_TEXT_CHARS = env_int("ASSAY_MAX_TEXT_CHARS")
ASSAY_JOB_MAX_ATTEMPTS = env_int("ASSAY_JOB_MAX_ATTEMPTS")
ASSAY_JOB_LEASE_SECONDS = env_int("ASSAY_JOB_LEASE_SECONDS")
ASSAY_BATCH_MAX_JOBS = env_int("ASSAY_BATCH_MAX_JOBS")
ASSAY_BATCH_WINDOW_MS = env_int("ASSAY_BATCH_WINDOW_MS")
ASSAY_SWEEP_INTERVAL_SECONDS = env_int("ASSAY_SWEEP_INTERVAL_SECONDS")
ASSAY_SWEEP_STALE_SECONDS = env_int("ASSAY_SWEEP_STALE_SECONDS")
ASSAY_REVIEW_SWEEP_SECONDS = env_int("ASSAY_REVIEW_SWEEP_SECONDS")
ASSAY_AUDIT_KEY = env("ASSAY_AUDIT_KEY", "")  # empty: ASSAY_AUDIT_KEY_FILE, made once
ASSAY_AUDIT_KEY_FILE = var_path("audit_key")
ASSAY_AUDIT_CHECKPOINT_DIR = path_setting("ASSAY_AUDIT_CHECKPOINT_DIR",
                                          var_path("audit-checkpoints"))
ASSAY_AUDIT_SEAL_INTERVAL_SECONDS = env_int("ASSAY_AUDIT_SEAL_INTERVAL_SECONDS")
ASSAY_AUDIT_SEAL_MIN_INTERVAL_MS = env_int("ASSAY_AUDIT_SEAL_MIN_INTERVAL_MS")
ASSAY_AUDIT_CHECKPOINT_INTERVAL_SECONDS = env_int("ASSAY_AUDIT_CHECKPOINT_INTERVAL_SECONDS")
ASSAY_SIGNING_DIR = path_setting("ASSAY_SIGNING_DIR", var_path("signing"))
ASSAY_SIGNING_CERT = env("ASSAY_SIGNING_CERT")
ASSAY_SIGNING_KEY = env("ASSAY_SIGNING_KEY")
ASSAY_TSA_URL = env("ASSAY_TSA_URL")
ASSAY_TRUST_ANCHORS = env("ASSAY_TRUST_ANCHORS")
ASSAY_PROVENANCE_REVIEWER_IDENTITY = env("ASSAY_PROVENANCE_REVIEWER_IDENTITY")
ASSAY_PROVENANCE_THUMBNAILS = env_bool("ASSAY_PROVENANCE_THUMBNAILS")
ASSAY_VERIFY_MAX_BYTES = env_int("ASSAY_VERIFY_MAX_BYTES")
ASSAY_VERIFY_MAX_PARTS = env_int("ASSAY_VERIFY_MAX_PARTS")
ASSAY_WEBHOOK_ALLOW_LOOPBACK = env_bool("ASSAY_WEBHOOK_ALLOW_LOOPBACK")
ASSAY_WEBHOOK_MAX_ATTEMPTS = env_int("ASSAY_WEBHOOK_MAX_ATTEMPTS")
ASSAY_WEBHOOK_TIMEOUT_SECONDS = env_int("ASSAY_WEBHOOK_TIMEOUT_SECONDS")
ASSAY_WORKER_DRAIN_SECONDS = env_int("ASSAY_WORKER_DRAIN_SECONDS")
ASSAY_WORKER_METRICS_PORT = env_int("ASSAY_WORKER_METRICS_PORT")
ASSAY_METRICS_TOKEN = env("ASSAY_METRICS_TOKEN")
ASSAY_SCALER_DB_ROLE = env("ASSAY_SCALER_DB_ROLE")

# --- Celery (read by assay.celery through the CELERY_ namespace) ------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # job state lives in the database, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "sweep-jobs": {
        "task": "generation.sweep",
        "schedule": float(ASSAY_SWEEP_INTERVAL_SECONDS),
        "options": {"queue": "cpu", "expires": float(ASSAY_SWEEP_INTERVAL_SECONDS)},
    },
    "review-deadlines": {
        "task": "review.sweep",
        "schedule": float(ASSAY_REVIEW_SWEEP_SECONDS),
        "options": {"queue": "cpu", "expires": float(ASSAY_REVIEW_SWEEP_SECONDS)},
    },
    "audit-seal": {  # events no commit sealed (a burst's tail, a crashed process)
        "task": "audit.seal",
        "schedule": float(ASSAY_AUDIT_SEAL_INTERVAL_SECONDS),
        "options": {"queue": "cpu", "expires": float(ASSAY_AUDIT_SEAL_INTERVAL_SECONDS)},
    },
    "audit-checkpoint": {
        "task": "audit.checkpoint",
        "schedule": float(ASSAY_AUDIT_CHECKPOINT_INTERVAL_SECONDS),
        "options": {"queue": "cpu", "expires": float(ASSAY_AUDIT_CHECKPOINT_INTERVAL_SECONDS)},
    },
    "sign-approved": {  # approvals whose signing task the broker lost
        "task": "provenance.sweep",
        "schedule": float(ASSAY_SWEEP_INTERVAL_SECONDS),
        "options": {"queue": "cpu", "expires": float(ASSAY_SWEEP_INTERVAL_SECONDS)},
    },
    "publish-deliveries": {  # webhook deliveries whose task message was lost
        "task": "publishing.sweep",
        "schedule": float(ASSAY_SWEEP_INTERVAL_SECONDS),
        "options": {"queue": "cpu", "expires": float(ASSAY_SWEEP_INTERVAL_SECONDS)},
    },
}
EMAIL_BACKEND = env("EMAIL_BACKEND")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = var_path("broker")
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # kombu's folder transport needs the in and out folders to be the same one.
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CELERY_BEAT_SCHEDULE_FILENAME = str(var_path("celerybeat-schedule"))
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT"),
        "max_retries": 1,
        "socket_connect_timeout": 2,
    }
    CELERY_BEAT_SCHEDULE_FILENAME = str(var_path("celerybeat-schedule"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
