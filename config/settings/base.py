"""Settings shared by every environment.

Every value comes from the environment (see `.env.example`); the defaults give a store
that runs on one machine with no external service: SQLite, local files, console email and a
Celery broker kept in a local folder.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from corsheaders.defaults import default_headers as default_cors_headers

from config.logging import build_logging

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
STORE_NAME = env.str("STORE_NAME", default="Evergreen Store")
STORE_CURRENCY = env.str("STORE_CURRENCY", default="EUR")
# Staff who receive the daily low-stock digest; empty means every active staff user.
LOW_STOCK_EMAILS = env.list("LOW_STOCK_EMAILS", default=[])
# An unpaid order holds its stock this long, then it is cancelled and the stock returns.
ORDER_PAYMENT_MINUTES = env.int("ORDER_PAYMENT_MINUTES", default=60)
# How long a guest's email verification link (and code) stays valid.
GUEST_VERIFY_HOURS = env.int("GUEST_VERIFY_HOURS", default=48)
# Anonymous carts untouched for this many days are deleted.
CART_KEEP_DAYS = env.int("CART_KEEP_DAYS", default=30)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django.forms",
    # Third party
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "axes",
    "health_check",
    "django_countries",
    "anymail",
    "imagekit",
    "import_export",
    "djstripe",
    # The store
    "accounts",
    "catalog",
    "orders",
    "payments",
    "downloads",
    "pipeline",
]

MIDDLEWARE = [
    "config.middleware.RequestIDMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "config.context_processors.store",
                "orders.context_processors.cart",
                "catalog.page_cache.holes",
            ],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the file: wait for a lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL plans a query once per connection instead of on every run: parameters are bound
    # on the server, and a query run this many times on a connection becomes a prepared
    # statement. 0 turns it off, for a pooler that cannot keep prepared statements (PgBouncer
    # before 1.21 in transaction mode).
    prepare_threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    if prepare_threshold > 0:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": prepare_threshold}
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="store"),
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Shoppers' catalogue pages and API reads are kept this long, or until the catalogue changes
# (catalog.page_cache); 0 turns the cache off. Off by default without Redis: a cache of one
# process would not hear of changes made by another (a worker, a second web process).
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600 if REDIS_URL else 0)

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out login never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 3)
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=60 * 60 * 24 * 3)
# "Remember me" keeps the session for two weeks; otherwise it ends with the browser.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)

# Brute-force protection (django-axes): lock a username from one address after N failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Both the login page (field "username") and the API pass the email to authenticate() as username.
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_IPWARE_PROXY_COUNT = env.int("NUM_PROXIES", default=0) or None
AXES_VERBOSE = False

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api_support.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=20),
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["config.api_support.throttling.ScopedThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("THROTTLE_AUTH", default="5/min"),
        "general": env.str("THROTTLE_GENERAL", default="100/min"),
        "uploads": env.str("THROTTLE_UPLOADS", default="10/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0) or None,
    "EXCEPTION_HANDLER": "config.api_support.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Access tokens carry a hash of the password: changing it signs out every client at once.
    "CHECK_REVOKE_TOKEN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
# Refresh lifetime when the shopper ticks "remember me".
JWT_REMEMBER_ME_REFRESH_LIFETIME = timedelta(
    days=env.int("JWT_REMEMBER_ME_REFRESH_DAYS", default=30)
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Store API",
    "DESCRIPTION": (
        "JSON API of the store for mobile and single-page clients. Authenticate with "
        "`POST /api/v1/auth/login` and send `Authorization: Bearer <access>`. Every error has "
        'the shape `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several fields are called `status`: give each its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "ProductStatusEnum": "catalog.models.Product.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "PaymentProviderEnum": "payments.models.Payment.Provider",
        "RefundStatusEnum": "payments.models.Refund.Status",
        "RefundOriginEnum": "payments.models.Refund.Origin",
    },
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# Apps keep their anonymous cart's token in X-Session-ID: they must be able to send and read it.
CORS_EXPOSE_HEADERS = ["X-Request-ID", "X-Session-ID"]
CORS_ALLOW_HEADERS = (*default_cors_headers, "x-session-id")

# --- Payments ---------------------------------------------------------------------------------
# Stripe (through dj-stripe) is offered when its keys are set; the manual method (bank transfer,
# pay on pickup; staff confirm the money arrived) whenever it is listed in PAYMENT_PROVIDERS.
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_TEST_SECRET_KEY = env.str("STRIPE_TEST_SECRET_KEY", default="")
STRIPE_TEST_PUBLIC_KEY = env.str("STRIPE_TEST_PUBLIC_KEY", default="")
STRIPE_LIVE_SECRET_KEY = env.str("STRIPE_LIVE_SECRET_KEY", default="")
STRIPE_LIVE_PUBLIC_KEY = env.str("STRIPE_LIVE_PUBLIC_KEY", default="")
# Only for a Stripe-compatible test server (dj-stripe warns if it is set in production).
if env.str("STRIPE_API_HOST", default=""):
    STRIPE_API_HOST = env.str("STRIPE_API_HOST")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
PAYMENT_PROVIDERS = env.list("PAYMENT_PROVIDERS", default=["stripe", "manual"])
# What the shopper is told to do when paying manually (bank details, pickup hours...).
MANUAL_PAYMENT_INSTRUCTIONS = env.str(
    "MANUAL_PAYMENT_INSTRUCTIONS",
    default="Transfer the total to our bank account with the order number as reference; "
    "we confirm your order as soon as the money arrives.",
)
# An order paid manually is held (with its stock) this many days for the money to arrive.
MANUAL_PAYMENT_DAYS = env.int("MANUAL_PAYMENT_DAYS", default=7)
# How far back the reconciliation task looks for Stripe events that never arrived.
STRIPE_RECONCILE_HOURS = env.int("STRIPE_RECONCILE_HOURS", default=72)

# --- Background jobs (Celery) ----------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem:"):
    # A broker that needs no server: messages are files in var/celery/, shared by web and worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "*.send_*_email": {"queue": "email"},
    # Reconstructions are long and heavy: a worker of their own (Procfile: pipeline).
    "pipeline.tasks.run_capture_job": {"queue": "pipeline"},
}
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 5)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "flush-expired-tokens": {
        "task": "accounts.tasks.flush_expired_tokens",
        "schedule": crontab(hour=3, minute=17),
    },
    "expire-unpaid-orders": {
        "task": "orders.tasks.expire_unpaid_orders",
        "schedule": crontab(minute="*/5"),
    },
    "delete-stale-carts": {
        "task": "orders.tasks.delete_stale_carts",
        "schedule": crontab(hour=4, minute=40),
    },
    "reconcile-stripe": {
        "task": "payments.tasks.reconcile_stripe",
        "schedule": crontab(minute="*/15"),
    },
    "sweep-stuck-capture-jobs": {
        "task": "pipeline.tasks.sweep_stuck_jobs",
        "schedule": crontab(minute="*/5"),
    },
    "grant-missing-downloads": {
        "task": "downloads.tasks.grant_missing_entitlements",
        "schedule": crontab(minute=23),
    },
    "low-stock-digest": {
        "task": "catalog.tasks.send_low_stock_digest",
        "schedule": crontab(hour=7, minute=0),
    },
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Evergreen Store <shop@example.com>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
ANYMAIL = env.dict("ANYMAIL", default={})

# --- Files ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Product thumbnails are made when an image is saved, so pages never wait for them or ask the
# storage whether they exist.
IMAGEKIT_DEFAULT_CACHEFILE_STRATEGY = "imagekit.cachefiles.strategies.Optimistic"
IMAGEKIT_SPEC_CACHEFILE_NAMER = "catalog.image_names.source_name_as_path"
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Files sold as downloads live apart from public media, never at a public address: a Cloudflare
# R2 bucket (S3 API) when R2_PRIVATE_BUCKET is set, else a local folder outside MEDIA_ROOT.
# Links to them are signed and short-lived (DOWNLOAD_LINK_SECONDS).
R2_ACCOUNT_ID = env.str("R2_ACCOUNT_ID", default="")
R2_PRIVATE_BUCKET = env.str("R2_PRIVATE_BUCKET", default="")
DOWNLOAD_LINK_SECONDS = min(env.int("DOWNLOAD_LINK_SECONDS", default=300), 300)
if R2_PRIVATE_BUCKET:
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": R2_PRIVATE_BUCKET,
            "access_key": env.str("R2_ACCESS_KEY_ID"),
            "secret_key": env.str("R2_SECRET_ACCESS_KEY"),
            "endpoint_url": env.str(
                "R2_ENDPOINT_URL", default=f"https://{R2_ACCOUNT_ID}.r2.cloudflarestorage.com"
            ),
            "region_name": "auto",
            "signature_version": "s3v4",
            "addressing_style": "path",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": DOWNLOAD_LINK_SECONDS,
            "file_overwrite": False,
            # A custom domain would make url() unsigned: never on the private bucket.
            "custom_domain": None,
        },
    }
else:
    STORAGES["private"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env.path("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private")),
            "base_url": None,
        },
    }
# How many times a buyer may download a product's files (a product may say otherwise).
MAX_DOWNLOADS_PER_USER = env.int("MAX_DOWNLOADS_PER_USER", default=3)
# How long the downloads link in a guest's paid email works.
GUEST_DOWNLOAD_LINK_DAYS = env.int("GUEST_DOWNLOAD_LINK_DAYS", default=7)

# --- Photo-to-3D pipeline ---------------------------------------------------------------------
# Staff upload PIPELINE_MIN_PHOTOS..PIPELINE_MAX_PHOTOS photos of a product (JPEG, PNG, WebP,
# HEIC); a job on the `pipeline` queue reconstructs a 3D model from them. Photos and results
# live on the private storage.
PIPELINE_MIN_PHOTOS = env.int("PIPELINE_MIN_PHOTOS", default=3)
PIPELINE_MAX_PHOTOS = env.int("PIPELINE_MAX_PHOTOS", default=300)
PIPELINE_MAX_PHOTO_MB = env.int("PIPELINE_MAX_PHOTO_MB", default=40)
PIPELINE_MAX_JOB_MB = env.int("PIPELINE_MAX_JOB_MB", default=2048)
# Larger images are refused (decompression bombs); 60 MP covers every phone camera.
PIPELINE_MAX_PIXELS = env.int("PIPELINE_MAX_PIXELS", default=60_000_000)
# Photos are scaled down to this longer side before reconstruction.
PIPELINE_MAX_SIDE = env.int("PIPELINE_MAX_SIDE", default=1600)
# A job that runs longer is stopped; a running job whose worker shows no sign of life for
# PIPELINE_STALE_SECONDS is retried (up to PIPELINE_MAX_ATTEMPTS runs in all), then failed.
PIPELINE_TIME_LIMIT = env.int("PIPELINE_TIME_LIMIT", default=60 * 60)
PIPELINE_HEARTBEAT_SECONDS = env.int("PIPELINE_HEARTBEAT_SECONDS", default=30)
PIPELINE_STALE_SECONDS = env.int("PIPELINE_STALE_SECONDS", default=5 * 60)
PIPELINE_MAX_ATTEMPTS = env.int("PIPELINE_MAX_ATTEMPTS", default=2)
# A request may carry every photo of a job (Django refuses more files than this outright).
DATA_UPLOAD_MAX_NUMBER_FILES = PIPELINE_MAX_PHOTOS + 20

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Logging: one JSON line per event, with the request id ------------------------------------
LOGGING = build_logging(
    level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="json")
)
# Our RequestIDMiddleware has already checked or replaced the incoming X-Request-ID.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
# One line per request (on finish, with status and duration); the start line only at DEBUG.
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = 10
