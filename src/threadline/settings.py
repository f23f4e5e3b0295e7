"""Threadline's one settings module, driven by environment variables.

Embedded default (nothing set): SQLite in WAL mode inside ``THREADLINE_DATA`` (default
``./threadline-data``), the in-memory channel layer, a local-memory cache and Django tasks stored in the
same database. ``DATABASE_URL=postgres://…`` switches to PostgreSQL and ``REDIS_URL=redis://…`` to the
Redis channel layer and cache; nothing else changes when a team scales out.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("THREADLINE_DATA", "threadline-data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Use THREADLINE_SECRET_KEY, else a key generated once and kept in the data directory."""
    if key := os.environ.get("THREADLINE_SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("THREADLINE_DEBUG")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("THREADLINE_ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("THREADLINE_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
# The public base URL, used to print webhook URLs an admin pastes into a provider.
PUBLIC_URL = os.environ.get("THREADLINE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # First, so its templates override allauth's (sign-in pages in Threadline's own layout).
    "threadline.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "threadline.core",
    "threadline.contacts",
    "threadline.conversations",
    "threadline.ingest",
    "threadline.mail",
    "threadline.realtime",
    "threadline.routing",
    "threadline.calls",
    "threadline.api",
    "threadline.widget",
    "threadline.search",
    "threadline.knowledge",
    "threadline.bot",
    "threadline.webform",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "threadline.web.middleware.AgentMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "threadline.urls"
ASGI_APPLICATION = "threadline.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "threadline.web.context.agent_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A small pool per process instead of persistent per-thread connections: the ASGI server and the
        # worker run many threads, and PostgreSQL's connection limit is shared by every process. 12 = the 4
        # webhook threads and the 4 worker threads of a busy `run`, with room left for pages.
        DATABASES["default"]["OPTIONS"] = {
            "pool": {"min_size": 1, "max_size": int(os.environ.get("THREADLINE_DB_POOL_SIZE", "12")), "timeout": 20}
        }
else:
    DATABASES = {
        "default": {
            # Django's SQLite backend with a connection pool (threadline/core/sqlite/base.py).
            "ENGINE": "threadline.core.sqlite",
            "NAME": DATA_DIR / "threadline.sqlite3",
            "POOL_SIZE": int(os.environ.get("THREADLINE_DB_POOL_SIZE", "8")),
            "OPTIONS": {
                # IMMEDIATE: a writing transaction takes the write lock when it begins, so two writers queue
                # on busy_timeout instead of failing half-way with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
            "TEST": {"NAME": str(DATA_DIR / "test-threadline.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, tasks ------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 defaults to a 5 s socket timeout, which kills the layer's blocking read (BLPOP with a
            # 5 s timeout); give the socket more room than that.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "capacity": 1500, "expiry": 30},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "threadline.realtime.layer.LoopBridgedInMemoryChannelLayer"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Auth -----------------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Sessions expire after this many seconds (default 12 hours) and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("THREADLINE_SESSION_SECONDS", str(12 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PUBLIC_URL.startswith("https://")
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
ACCOUNT_ADAPTER = "threadline.web.auth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Failed sign-ins: at most 5 per 5 minutes per IP address and per account (cache-backed: Redis when scaled out).
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key", "reset_password": "5/m/ip,3/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Threadline"

# Outgoing mail of the application itself (invitations, password resets). Without THREADLINE_SMTP_HOST it
# is written to files in the data directory, so the demo never sends mail anywhere.
if os.environ.get("THREADLINE_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["THREADLINE_SMTP_HOST"]
    EMAIL_PORT = int(os.environ.get("THREADLINE_SMTP_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("THREADLINE_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("THREADLINE_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = _env_bool("THREADLINE_SMTP_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "outbox"
DEFAULT_FROM_EMAIL = os.environ.get("THREADLINE_FROM_EMAIL", "Threadline <threadline@localhost>")

# --- Languages ------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("th", _("Thai")),
    ("it", _("Italian")),
    ("de", _("German")),
    ("az", _("Azerbaijani")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static and media -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
# Tests and `manage.py` serve static files straight from the apps; the servers (`run`, `demo`, `web`) first
# collect them into STATIC_ROOT with gzip copies and switch this off (threadline.cli), so the widget script
# on customers' pages and the agent pages' assets go out compressed.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Threadline's own knobs -----------------------------------------------------------------------------
# Largest inbound webhook body accepted, in bytes (larger gets 413 and nothing is stored).
THREADLINE_MAX_WEBHOOK_BYTES = int(os.environ.get("THREADLINE_MAX_WEBHOOK_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = max(THREADLINE_MAX_WEBHOOK_BYTES + 1, 2_621_440)
# Outbound delivery: attempts before a message is marked failed, and the first backoff in seconds.
THREADLINE_DELIVERY_ATTEMPTS = int(os.environ.get("THREADLINE_DELIVERY_ATTEMPTS", "6"))
THREADLINE_RETRY_BASE_SECONDS = float(os.environ.get("THREADLINE_RETRY_BASE_SECONDS", "10"))
# Inbound processing: attempts before a stored raw delivery is parked as failed for an admin to replay.
THREADLINE_INGEST_ATTEMPTS = int(os.environ.get("THREADLINE_INGEST_ATTEMPTS", "8"))
# Threads that run provider webhooks (verify, store) in a `run`/`web` process; each holds a database
# connection while it works.
THREADLINE_WEBHOOK_THREADS = max(1, int(os.environ.get("THREADLINE_WEBHOOK_THREADS", "4")))
# Inbound deliveries a worker claims at once (one statement per batch; each still commits on its own).
THREADLINE_INGEST_BATCH = max(1, int(os.environ.get("THREADLINE_INGEST_BATCH", "20")))
# A raw delivery or outbound message left "in progress" longer than this is assumed orphaned by a dead
# worker and picked up again by the sweeper.
THREADLINE_STALE_SECONDS = int(os.environ.get("THREADLINE_STALE_SECONDS", "120"))
THREADLINE_SWEEP_SECONDS = float(os.environ.get("THREADLINE_SWEEP_SECONDS", "15"))
# Finished jobs are history, not state (the domain rows are): kept for inspection, then pruned by the scheduler.
THREADLINE_JOB_RESULTS_KEEP_HOURS = float(os.environ.get("THREADLINE_JOB_RESULTS_KEEP_HOURS", "24"))
THREADLINE_FAILED_JOBS_KEEP_DAYS = float(os.environ.get("THREADLINE_FAILED_JOBS_KEEP_DAYS", "30"))
THREADLINE_WORKER_POLL_SECONDS = float(os.environ.get("THREADLINE_WORKER_POLL_SECONDS", "0.2"))
# Task worker threads per process (`run`, `worker`): several overlap their database round trips on
# PostgreSQL; SQLite serialises writes, so one thread there.
THREADLINE_WORKER_THREADS = max(1, int(os.environ.get("THREADLINE_WORKER_THREADS", "4" if DATABASE_URL else "1")))
# Largest attachment stored (inbound media downloads and uploads), in bytes.
THREADLINE_MAX_ATTACHMENT_BYTES = int(os.environ.get("THREADLINE_MAX_ATTACHMENT_BYTES", str(25 * 1024 * 1024)))
# Website chat: a widget reply still unread after this many seconds follows by email (docs/channels/livechat.md).
THREADLINE_WIDGET_EMAIL_AFTER_SECONDS = int(os.environ.get("THREADLINE_WIDGET_EMAIL_AFTER_SECONDS", "120"))
# Website chat: multiplies the widget's rate limits (per visitor and per IP), e.g. behind a large NAT.
THREADLINE_WIDGET_RATE_SCALE = float(os.environ.get("THREADLINE_WIDGET_RATE_SCALE", "1"))
# Default region for phone numbers written without a country code (ISO 3166 code), e.g. "TH" or "IT".
THREADLINE_DEFAULT_REGION = os.environ.get("THREADLINE_DEFAULT_REGION", "US")
# `threadline demo` sets this: the customer simulator and the providers' stand-in are mounted.
THREADLINE_DEMO = _env_bool("THREADLINE_DEMO")
# Provider API base URLs (overridable so tests and air-gapped installs can point at a local stand-in).
THREADLINE_META_GRAPH_URL = os.environ.get("THREADLINE_META_GRAPH_URL", "https://graph.facebook.com/v21.0")
THREADLINE_TELEGRAM_API_URL = os.environ.get("THREADLINE_TELEGRAM_API_URL", "https://api.telegram.org")
THREADLINE_TWILIO_API_URL = os.environ.get("THREADLINE_TWILIO_API_URL", "https://api.twilio.com")
# Timeout for calls to providers and outbound webhooks, in seconds.
THREADLINE_HTTP_TIMEOUT = float(os.environ.get("THREADLINE_HTTP_TIMEOUT", "10"))
# Email: the SMTP listener's address (host:port; empty disables it inside `threadline run`), the largest
# mail it accepts (larger is refused with 552), files kept per mail, and how long after being resolved a
# conversation still reopens on a reply (older replies start a new conversation).
THREADLINE_SMTP_LISTEN = os.environ.get("THREADLINE_SMTP_LISTEN", "127.0.0.1:2525")
THREADLINE_EMAIL_MAX_BYTES = int(os.environ.get("THREADLINE_EMAIL_MAX_BYTES", str(25 * 1024 * 1024)))
THREADLINE_EMAIL_MAX_ATTACHMENTS = int(os.environ.get("THREADLINE_EMAIL_MAX_ATTACHMENTS", "20"))
THREADLINE_REOPEN_WINDOW_DAYS = float(os.environ.get("THREADLINE_REOPEN_WINDOW_DAYS", "14"))
# IMAP: seconds between polls of a mailbox without IDLE, and the longest IDLE wait before re-polling.
THREADLINE_IMAP_POLL_SECONDS = float(os.environ.get("THREADLINE_IMAP_POLL_SECONDS", "60"))
THREADLINE_IMAP_IDLE_SECONDS = float(os.environ.get("THREADLINE_IMAP_IDLE_SECONDS", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("THREADLINE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs full request URLs at INFO; some providers put credentials in the path.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
        # aiosmtpd logs every SMTP command (MAIL FROM / RCPT TO addresses) at INFO; imapclient logs logins.
        "mail.log": {"level": "WARNING"},
        "imapclient": {"level": "WARNING"},
    },
}
