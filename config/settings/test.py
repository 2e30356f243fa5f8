"""The test suite: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, else SQLite."""

import tempfile

from .base import *  # noqa: F403
from .base import DATABASES, REST_FRAMEWORK

DEBUG = False
SECRET_KEY = "test-secret-key-that-is-long-enough-for-hmac-signing-0123456789"
SIMPLE_JWT["SIGNING_KEY"] = SECRET_KEY  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="store-test-media-")
STORAGES["private"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": tempfile.mkdtemp(prefix="store-test-private-"), "base_url": None},
}
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# The catalogue's page cache is on in every test, whichever cache backs it.
PAGE_CACHE_SECONDS = 600
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Tests exercise throttling explicitly; the general limits stay out of the way elsewhere.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "auth": "1000/min",
    "general": "10000/min",
    "uploads": "1000/min",
}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # In-memory test database; the journal mode of the file database does not apply.
    DATABASES["default"]["OPTIONS"].pop("init_command", None)
    DATABASES["default"]["OPTIONS"].pop("transaction_mode", None)
# Serve static files from the app folders (no collectstatic in tests), for the live server too.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tasks run eagerly; a real worker test points Celery at Redis itself (see tests/test_worker.py).
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
