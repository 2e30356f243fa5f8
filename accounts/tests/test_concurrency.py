"""Races that only a real PostgreSQL shows (SQLite serialises every write)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import jwt
from accounts.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_thread(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connection.close()

    return run


def test_the_same_email_registered_at_once_creates_one_account():
    @_in_thread
    def register(n: int) -> int:
        response = APIClient().post(
            reverse("api:auth-register"),
            {"email": "Race@Example.com", "password": f"Bonsai-Lover-{n}7"},
            format="json",
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(register, range(8)))

    assert sorted(statuses) == [201] + [400] * 7
    assert User.objects.filter(email="race@example.com").count() == 1


def test_one_refresh_token_used_at_once_rotates_once(user):
    refresh = jwt.tokens_for_user(user=user)["refresh"]

    @_in_thread
    def rotate(_: int) -> int:
        return APIClient().post(reverse("api:auth-refresh"), {"refresh": refresh}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(rotate, range(6)))

    assert sorted(statuses) == [200] + [401] * 5
