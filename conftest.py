"""Fixtures shared by every test module."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory


def pytest_collection_modifyitems(config, items) -> None:
    """Skip tests that need a real PostgreSQL or Redis when they are not configured, saying why.

    Browser tests run last: Playwright leaves an event loop running in the main thread for the
    rest of the session, which would break tests of async views that come after them.
    """
    items.sort(key=lambda item: "browser" in item.keywords)
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and lockouts live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return "Correct-Horse-42"


@pytest.fixture
def user(password):
    return UserFactory(raw_password=password)


@pytest.fixture
def auth_client(user) -> APIClient:
    """An API client signed in as `user` with a JWT access token."""
    from accounts import jwt

    client = APIClient()
    tokens = jwt.tokens_for_user(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


@pytest.fixture
def staff():
    """A member of staff with every permission (the admin checks permissions, the API is_staff)."""
    return UserFactory(is_staff=True, is_superuser=True, email="staff@example.com")


@pytest.fixture
def staff_client(client, staff):
    """A browser session signed in as `staff` (admin and pages)."""
    client.force_login(staff)
    return client


@pytest.fixture
def staff_api_client(staff) -> APIClient:
    """An API client signed in as `staff` with a JWT access token."""
    from accounts import jwt

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt.tokens_for_user(user=staff)['access']}")
    return api


@pytest.fixture
def emails_sent(django_capture_on_commit_callbacks):
    """`with emails_sent(): ...` runs the on-commit hooks (the email tasks) of what it wraps.

    Test transactions never commit, so without this the hooks of a request would never fire.
    """
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"
