"""Background jobs on a real Celery worker over Redis (the rest of the suite runs tasks eagerly)."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.urls import reverse
from kombu import pools

from config.celery import app

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@contextmanager
def redis_worker_for(settings, queues: list[str]) -> Iterator:
    """A worker thread consuming `queues` from the Redis broker, for the duration of a test."""
    previous = {
        "broker_url": app.conf.broker_url,
        "task_always_eager": app.conf.task_always_eager,
        "broker_transport_options": app.conf.broker_transport_options,
    }
    app.conf.update(
        broker_url=settings.REDIS_URL, task_always_eager=False, broker_transport_options={}
    )
    _reset_connection_pool()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=queues) as worker:
            yield worker
    finally:
        app.conf.update(previous)
        _reset_connection_pool()


@pytest.fixture
def redis_worker(settings):
    """A worker thread consuming the default and email queues from the Redis broker."""
    with redis_worker_for(settings, ["default", "email"]) as worker:
        yield worker


def _reset_connection_pool() -> None:
    """Connections are pooled per broker URL at first use: drop them all when the URL changes.

    kombu keeps its pools in global groups keyed by connection (`kombu.pools.reset()` closes and
    forgets them); Celery caches its connection and producer pools and recreates both lazily.
    """
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(condition, timeout: float = 15.0) -> bool:
    """Poll until the worker has done its job (it runs in another thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_registration_email_is_sent_by_the_worker_not_the_request(client, redis_worker):
    response = client.post(
        reverse("api:auth-register"),
        {"email": "worker@example.com", "password": "Bonsai-Lover-77"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert wait_for(lambda: len(mail.outbox) == 1), "the worker never sent the email"
    assert mail.outbox[0].to == ["worker@example.com"]
    assert "/accounts/verify/" in mail.outbox[0].body
