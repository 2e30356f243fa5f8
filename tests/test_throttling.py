"""The API's rate limit holds when requests arrive at once, as they do from several processes."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from config.api_support.throttling import ScopedThrottle


@pytest.mark.redis
def test_no_request_beyond_the_limit_gets_through_when_all_come_at_once(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"general": "5/min"},
    }
    request = RequestFactory().get("/api/v1/products", REMOTE_ADDR="203.0.113.9")
    request.user = AnonymousUser()
    view = SimpleNamespace(throttle_scope="general")
    start = Barrier(20)

    def ask(_) -> tuple[bool, float | None]:
        throttle = ScopedThrottle()
        start.wait()
        allowed = throttle.allow_request(request, view)
        return allowed, None if allowed else throttle.wait()

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(ask, range(20)))

    assert sum(allowed for allowed, _ in answers) == 5
    assert all(0 < wait <= 60 for allowed, wait in answers if not allowed)
    assert ScopedThrottle._redis_script() is not None
