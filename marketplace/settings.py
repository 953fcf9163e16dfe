"""Settings for the marketplace, read from the environment.

Nothing set gives the embedded default: SQLite file, Celery eager, database search,
console email, debug on. Each variable below switches on a real part; see README.md.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from marketplace import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.read_bool("DEBUG", True)
TESTING = env.read_bool("MARKETPLACE_TESTING", False)

SECRET_KEY = env.read("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "embedded-development-key-not-for-production-use-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env.read_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.read_list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entries must start with http:// or https://: {_origin!r}."
        )

SITE_URL = env.read_url("SITE_URL", ("http", "https")) or "http://127.0.0.1:8000"

INSTALLED_APPS = [
    # Our apps, top layer first (see ARCHITECTURE.md).
    "marketplace",
    "personal_budgets",
    "personal_budgets.topups",
    "purchasing",
    "pricing",
    "catalogue",
    "search",
    "ledger",
    "payments",
    "organisations",
    "common",
    # Wagtail: CMS pages and the back office.
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "organisations.backoffice_apps.BackOfficeUsersConfig",  # wagtail.users, with full-name forms
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # API and helpers.
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "axes",
    "csp",
    # Django.
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "marketplace.middleware.SecurityHeadersMiddleware",
    "marketplace.middleware.AuditDeniedAccessMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "organisations.middleware.ActingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Axes last, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts, styles, images and requests from this site only, no
# inline scripts or styles, no framing, forms post only here. The Wagtail admin (/cms/) needs inline
# scripts of its own and is for staff only; it is left out rather than weakening the whole policy.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ("/cms/",),
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Browser features no page here uses are switched off (marketplace.middleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "marketplace" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.context_processors.site",
                "organisations.context_processors.acting_switcher",
            ],
        },
    },
]

DATABASES = {"default": env.database_config("DATABASE_URL", str(BASE_DIR / "db.sqlite3"))}
# Independent reads of one page (a category page's facet counts) sent on a second connection, so
# PostgreSQL runs them on two cores at once (common.concurrent_reads). PostgreSQL only.
DATABASE_CONCURRENT_READS = env.read_bool("DATABASE_CONCURRENT_READS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) serve PostgreSQL; SQLite, the embedded default, ignores their extra columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "organisations.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "organisations:sign-in"
LOGIN_REDIRECT_URL = "start"
LOGOUT_REDIRECT_URL = "/"

# Lock an account out after repeated failed sign-ins (django-axes).
AXES_FAILURE_LIMIT = env.read_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.read_int("AXES_COOLOFF_MINUTES", 30))
# Locked by account and address together at AXES_FAILURE_LIMIT, and by address alone (password
# spraying across accounts) only at the far higher SIGN_IN_ADDRESS_FAILURE_LIMIT; see
# organisations.auth.AccountAtAddressHandler. The order of the parameters matters to it.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "organisations.auth.AccountAtAddressHandler"
SIGN_IN_ADDRESS_FAILURE_LIMIT = env.read_int("SIGN_IN_ADDRESS_FAILURE_LIMIT", 100)
# How many proxies in front of the app append to X-Forwarded-For. 0 (the default) ignores the
# header, which anyone can forge; the same number drives DRF's throttles (REST_FRAMEWORK below).
NUM_PROXIES = env.read_int("NUM_PROXIES", 0)
AXES_CLIENT_IP_CALLABLE = "common.clients.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "organisations/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Email addresses are case-insensitive, so failures count per lower-cased address.
AXES_USERNAME_CALLABLE = "organisations.auth.axes_username"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.read("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.read("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and not TESTING
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Larger uploads go to a temporary file that stops growing past UPLOAD_MAX_BYTES (common/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "common.uploads.CappedTemporaryFileUploadHandler",
]

# Limits for uploaded spreadsheets, the same on every path (common/uploads.py, docs/formats.md).
UPLOAD_MAX_BYTES = env.read_positive_int("UPLOAD_MAX_MB", 50) * 1024 * 1024
UPLOAD_MAX_ROWS = env.read_positive_int("UPLOAD_MAX_ROWS", 500_000)
UPLOAD_MAX_COLUMNS = env.read_positive_int("UPLOAD_MAX_COLUMNS", 100)
# Files up to this size are imported while the user waits; larger ones on a Celery worker.
UPLOAD_INLINE_MAX_BYTES = env.read_int("UPLOAD_INLINE_MAX_BYTES", 400_000)
# An unfinished import whose progress has not moved for this long is queued again (its worker was
# killed, ran out of memory or was redeployed), or marked failed after IMPORT_MAX_ATTEMPTS runs.
IMPORT_STALE_MINUTES = env.read_positive_int("IMPORT_STALE_MINUTES", 15)
IMPORT_MAX_ATTEMPTS = env.read_positive_int("IMPORT_MAX_ATTEMPTS", 3)

# Redis: Celery broker, result backend and cache. Without it: Celery eager, local-memory cache.
REDIS_URL = env.read_url("REDIS_URL", ("redis", "rediss"))
CELERY_BROKER_URL = env.read_url("CELERY_BROKER_URL", ("redis", "rediss", "amqp", "amqps")) or REDIS_URL
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "common.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.read("CACHE_KEY_PREFIX", "marketplace"),
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = env.read_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL is None)
CELERY_TASK_EAGER_PROPAGATES = True
# In-process broker when there is no Redis; it names a host so that kombu does not warn that none was
# supplied (a warning a newcomer running the demo would take for an error).
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Each app adds its periodic tasks here; `celery -A marketplace beat` runs them.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
# Search: repair drift between the catalogue and the search index (lost or failed updates).
CELERY_BEAT_SCHEDULE["search-reconcile-index"] = {
    "task": "search.tasks.reconcile_index",
    "schedule": timedelta(minutes=env.read_int("SEARCH_RECONCILE_MINUTES", 15)),
}
# Catalogue: offers that started or ended (no one saves them) are reindexed just after midnight.
CELERY_BEAT_SCHEDULE["catalogue-offers-changing-date"] = {
    "task": "catalogue.tasks.reindex_offers_changing_date",
    "schedule": crontab(hour=0, minute=5),
}
# Price analytics: match what can now be matched and recompute every summary, nightly.
# Uploads: take up or fail the imports whose worker died (common.imports.import_jobs_sweep).
CELERY_BEAT_SCHEDULE["common-sweep-import-jobs"] = {
    "task": "common.import_jobs_sweep",
    "schedule": timedelta(minutes=env.read_positive_int("IMPORT_SWEEP_MINUTES", 5)),
}
# Ledger: pending transfers past their timeout release what they held (ledger.services).
CELERY_BEAT_SCHEDULE["ledger-expire-pending"] = {
    "task": "ledger.expire_pending",
    "schedule": timedelta(minutes=env.read_positive_int("LEDGER_EXPIRE_MINUTES", 1)),
}
# Personal budgets: scheduled allocations are paid into the wallets early each morning.
CELERY_BEAT_SCHEDULE["personal-budgets-allocations-due"] = {
    "task": "personal_budgets.allocations_due_pay",
    "schedule": crontab(hour=1, minute=15),
}
# Purchasing rounds: close each round whose closing time has come (exactly once, however late).
CELERY_BEAT_SCHEDULE["purchasing-rounds-close"] = {
    "task": "purchasing.rounds_close_due",
    "schedule": timedelta(seconds=env.read_positive_int("ROUNDS_CLOSE_SECONDS", 60)),
}
CELERY_BEAT_SCHEDULE["pricing-nightly"] = {
    "task": "pricing.nightly",
    "schedule": crontab(hour=2, minute=30),
}
# A trust's possible saving on a product below this (GBP) is left out of savings totals.
PRICING_SAVINGS_THRESHOLD = env.read("PRICING_SAVINGS_THRESHOLD", "10")
if not PRICING_SAVINGS_THRESHOLD.replace(".", "", 1).isdigit():
    raise ImproperlyConfigured("PRICING_SAVINGS_THRESHOLD must be an amount in GBP, such as 10 or 2.50.")
# Figures covering fewer trusts than this (a region, a product, a filtered total) are not shown, so
# that no trust's spend or prices can be read through a group of one or two.
PRICING_MIN_GROUP_TRUSTS = env.read_int("PRICING_MIN_GROUP_TRUSTS", 3)
# How long an emailed invitation to join an organisation works (organisations.services).
INVITATION_EXPIRY_DAYS = env.read_int("INVITATION_EXPIRY_DAYS", 7)
if PRICING_MIN_GROUP_TRUSTS < 1:
    raise ImproperlyConfigured("PRICING_MIN_GROUP_TRUSTS must be 1 or more.")
# Database connections a full refresh of the summaries uses side by side (one period each): about one
# per core the database server can give it; 1 refreshes one period after another.
PRICING_REFRESH_WORKERS = env.read_int("PRICING_REFRESH_WORKERS", 2)
if PRICING_REFRESH_WORKERS < 1:
    raise ImproperlyConfigured("PRICING_REFRESH_WORKERS must be 1 or more.")

# Search: the database backend unless an Elasticsearch cluster is configured.
ELASTICSEARCH_URL = env.read_url("ELASTICSEARCH_URL", ("http", "https"))
SEARCH_BACKEND = env.read("SEARCH_BACKEND", "elasticsearch" if ELASTICSEARCH_URL else "database")
if SEARCH_BACKEND not in ("database", "elasticsearch"):
    raise ImproperlyConfigured(
        f"SEARCH_BACKEND must be 'database' or 'elasticsearch', not {SEARCH_BACKEND!r}."
    )
if SEARCH_BACKEND == "elasticsearch" and not ELASTICSEARCH_URL:
    raise ImproperlyConfigured("SEARCH_BACKEND is 'elasticsearch' but ELASTICSEARCH_URL is not set.")
ELASTICSEARCH_INDEX_PREFIX = env.read("ELASTICSEARCH_INDEX_PREFIX", "marketplace")

# Stripe: card payments are off unless all three are set (payments.selectors.card_payments_enabled;
# the top-up page says so). Webhook set-up: infra/README.md, docs/payments.md.
STRIPE_SECRET_KEY = env.read("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env.read("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env.read("STRIPE_WEBHOOK_SECRET")
if STRIPE_SECRET_KEY and not STRIPE_SECRET_KEY.startswith(("sk_", "rk_")):
    raise ImproperlyConfigured("STRIPE_SECRET_KEY must start with sk_ or rk_.")
if STRIPE_PUBLISHABLE_KEY and not STRIPE_PUBLISHABLE_KEY.startswith("pk_"):
    raise ImproperlyConfigured("STRIPE_PUBLISHABLE_KEY must start with pk_.")
if (
    STRIPE_SECRET_KEY
    and STRIPE_PUBLISHABLE_KEY
    and ("_test_" in STRIPE_SECRET_KEY) != ("_test_" in STRIPE_PUBLISHABLE_KEY)
):
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY must both be test keys or both live."
    )
if STRIPE_WEBHOOK_SECRET and not STRIPE_WEBHOOK_SECRET.startswith("whsec_"):
    raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET must start with whsec_.")
# How long a card payment may wait for the payer before it is cancelled at Stripe (and the wallet
# hold it secures is released); the beat task below looks every minute.
PAYMENT_HOLD_MINUTES = env.read_positive_int("PAYMENT_HOLD_MINUTES", 30)
CELERY_BEAT_SCHEDULE["payments-expire-due"] = {
    "task": "payments.expire_due",
    "schedule": timedelta(minutes=1),
}
# A patient's top-up order the care coordinator approved waits this long for its card payment to be
# started (an email gives the link) before its wallet hold is released.
TOP_UP_PAY_AFTER_APPROVAL_HOURS = env.read_positive_int("TOP_UP_PAY_AFTER_APPROVAL_HOURS", 72)
# Wallet holds of top-ups whose card payment ended, or never started in time, are released once.
CELERY_BEAT_SCHEDULE["personal-budgets-top-up-holds-sweep"] = {
    "task": "personal_budgets.top_up_holds_sweep",
    "schedule": timedelta(minutes=5),
}
# Stripe events stored but never applied (their task was lost with a broker outage) are queued again.
CELERY_BEAT_SCHEDULE["payments-webhook-events-retry"] = {
    "task": "payments.webhook_events_retry",
    "schedule": timedelta(minutes=5),
}

# Email: console unless an SMTP host is given.
EMAIL_HOST = env.read("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.read_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env.read("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env.read("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env.read_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.read("DEFAULT_FROM_EMAIL", "NHS Marketplace <no-reply@marketplace.example>")

# Wagtail.
WAGTAIL_SITE_NAME = "NHS Marketplace"
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "xlsx", "docx", "txt"]

# REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Signed in, and the X-Acting-Organisation / X-Acting-Patient headers (if sent) name one of the
    # caller's organisations and a patient they may act for.
    "DEFAULT_PERMISSION_CLASSES": ["organisations.acting.ActsForWhomItSays"],
    "DEFAULT_SCHEMA_CLASS": "marketplace.api.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "common.api.PageNumberPagination",
    "DEFAULT_METADATA_CLASS": "common.api.Metadata",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "marketplace.api.exception_handler",
    # Views opt in with `throttle_scope`; the token endpoint slows down password guessing.
    "DEFAULT_THROTTLE_RATES": {"auth-token": env.read("API_TOKEN_THROTTLE_RATE", "10/minute")},
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NHS Marketplace API",
    "DESCRIPTION": "Catalogue, search, purchasing and analytics for NHS trusts, suppliers and patients.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["marketplace.api.only_public_api"],
    # One name for a choice set that several fields use (an order's state, an event's from and to).
    "ENUM_NAME_OVERRIDES": {
        "OrderStateEnum": "purchasing.states.OrderState",
        "BudgetKindEnum": "personal_budgets.models.BudgetKind",
        "AllocationKindEnum": "personal_budgets.models.AllocationKind",
        "RoundStatusEnum": "purchasing.rounds.models.RoundStatus",
        "ReturnStateEnum": "purchasing.returns.models.ReturnState",
    },
    # Swagger UI's files come from drf-spectacular-sidecar, served by us: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Production hardening: on whenever DEBUG is off (check --deploy passes).
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.read_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers and container health checks call /healthz over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.read_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
# Sessions are read from the cache (Redis when REDIS_URL is set) and written through to the database,
# so a signed-in page costs no session query while a cache flush signs no one out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

LOG_LEVEL = (env.read("LOG_LEVEL") or "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Axes logs every sign-in at INFO; failures and lockouts still show as WARNING.
        "axes": {"level": "WARNING"},
        # The Stripe library logs whole response bodies at DEBUG, PaymentIntents' client secrets
        # among them: never below INFO (method, path and status only), whatever LOG_LEVEL says.
        "stripe": {"level": "INFO" if LOG_LEVEL == "DEBUG" else LOG_LEVEL},
    },
}
