"""Fixtures that run the payment code against localstripe, a fake Stripe server on loopback.

`stripe_api` gives a clean localstripe with stripe-python and dj-stripe pointed at it;
`stripe_webhook` also makes localstripe deliver its events to the live server's dj-stripe
endpoint (tests using it need `@pytest.mark.django_db(transaction=True)`).
"""

import json
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe
from django.test import Client
from django.urls import reverse

from tests.support import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0


def _request(url: str, method: str = "GET", data: dict[str, str] | None = None) -> int:
    """Call localstripe without stripe-python (its config routes are not Stripe API)."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", "Bearer sk_test_probe")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """Start localstripe on a free loopback port for the whole session; stop it at the end."""
    log = tempfile.NamedTemporaryFile(prefix="localstripe-", suffix=".log", delete=False)  # noqa: SIM115
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "payments.tests.localstripe_runner", str(port)]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"localstripe ({' '.join(command)}) exited with code {process.returncode} "
                    "before answering; "
                    f"output:\n{Path(log.name).read_text()[-2000:]}",
                    pytrace=False,
                )
            try:
                _request(f"{url}/v1/balance")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"localstripe did not answer on {url} within {START_TIMEOUT:.0f} s; "
                        f"output:\n{Path(log.name).read_text()[-2000:]}",
                        pytrace=False,
                    )
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)


@dataclass(frozen=True)
class StripeAPI:
    """What a test needs to talk to localstripe, as dj-stripe and stripe-python see it."""

    url: str
    secret_key: str
    public_key: str
    account: Any  # djstripe.models.Account

    def config(self, path: str, method: str = "POST", data: dict[str, str] | None = None) -> int:
        """Call a localstripe `/_config/...` route (webhook registration, data wipe)."""
        return _request(f"{self.url}/_config/{path}", method=method, data=data)

    def pending_webhooks(self) -> int:
        """How many events localstripe has still to deliver (a route of the runner)."""
        with urllib.request.urlopen(f"{self.url}/_config/webhooks/pending", timeout=5) as response:
            return json.load(response)["pending"]


@pytest.fixture
def stripe_api(localstripe_url: str, settings, db) -> Iterator[StripeAPI]:
    """An empty localstripe, with stripe-python and dj-stripe configured to use it."""
    from djstripe.enums import APIKeyType
    from djstripe.models import Account, APIKey

    _request(f"{localstripe_url}/_config/data", method="DELETE")
    # Runner route: endpoints registered by an earlier test stop receiving events.
    _request(f"{localstripe_url}/_config/webhooks", method="DELETE")

    # dj-stripe stores keys only if they match ^(sk|pk)_test_[a-zA-Z0-9]{24,}$.
    secret_key = "sk_test_" + secrets.token_hex(16)
    public_key = "pk_test_" + secrets.token_hex(16)
    settings.STRIPE_API_HOST = localstripe_url
    settings.STRIPE_LIVE_MODE = False
    settings.STRIPE_TEST_SECRET_KEY = secret_key
    settings.STRIPE_TEST_PUBLIC_KEY = public_key

    saved = (stripe.api_base, stripe.api_key, stripe.max_network_retries)
    # dj-stripe copies STRIPE_API_HOST into stripe.api_base only once, at import.
    stripe.api_base = localstripe_url
    stripe.api_key = secret_key
    # A failing call would otherwise be retried (with sleeps) before the test sees the error.
    stripe.max_network_retries = 0

    # localstripe has no GET /v1/account, which dj-stripe calls to find the owner account of an
    # API key it has not seen: a pre-made Account linked to the key answers that from the DB.
    account_id = "acct_" + secrets.token_hex(8)
    account = Account.objects.create(
        id=account_id,
        livemode=False,
        stripe_data={
            "id": account_id,
            "object": "account",
            "country": "DE",
            "default_currency": "eur",
            "charges_enabled": True,
            "settings": {"dashboard": {"display_name": "localstripe"}},
        },
    )
    APIKey.objects.create(
        secret=secret_key,
        type=APIKeyType.secret,
        livemode=False,
        djstripe_owner_account=account,
    )
    try:
        yield StripeAPI(
            url=localstripe_url, secret_key=secret_key, public_key=public_key, account=account
        )
    finally:
        stripe.api_base, stripe.api_key, stripe.max_network_retries = saved


@pytest.fixture
def webhook_endpoint(stripe_api: StripeAPI):
    """A dj-stripe WebhookEndpoint row: its `secret` must sign what is posted to its URL."""
    from djstripe.enums import WebhookEndpointStatus
    from djstripe.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        id="we_" + secrets.token_hex(8),
        livemode=False,
        djstripe_owner_account=stripe_api.account,
        api_version="2017-08-15",
        enabled_events=["*"],
        secret="whsec_" + secrets.token_hex(24),
        status=WebhookEndpointStatus.enabled,
        url="http://testserver/",
        djstripe_tolerance=300,  # seconds, Stripe's default
    )
    endpoint.url = f"http://testserver{_endpoint_path(endpoint)}"
    endpoint.save(update_fields=["url"])
    return endpoint


def _endpoint_path(endpoint) -> str:
    """The path dj-stripe serves this endpoint on: /stripe/webhook/<djstripe_uuid>/."""
    return reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid})


@pytest.fixture
def stripe_webhook(webhook_endpoint, stripe_api: StripeAPI, live_server):
    """`webhook_endpoint` on the live server, registered as the receiver of localstripe's events.

    On teardown it waits until localstripe has delivered every event of the test, so none
    reaches the live server while the next test runs.
    """
    webhook_endpoint.url = f"{live_server.url}{_endpoint_path(webhook_endpoint)}"
    webhook_endpoint.save(update_fields=["url"])
    stripe_api.config(
        "webhooks/store", data={"url": webhook_endpoint.url, "secret": webhook_endpoint.secret}
    )
    yield webhook_endpoint
    deadline = time.monotonic() + 15
    while stripe_api.pending_webhooks() and time.monotonic() < deadline:
        time.sleep(0.05)
    stripe_api.config("webhooks", method="DELETE")


@pytest.fixture
def post_stripe_event(webhook_endpoint) -> Callable[..., Any]:
    """Post an event to `webhook_endpoint` with the Django test client, signed like Stripe.

    For events localstripe never sends (charge.refunded, charge.dispute.created, ...):
    `post_stripe_event("charge.refunded", stripe.Charge.retrieve(id).to_dict())`.
    `secret` and `timestamp` override the signature, `body` replaces the signed body. An error in
    processing is raised in the test, or with `raise_request_exception=False` answered with 500
    (as Stripe would see it; the trigger row keeps the exception and traceback).
    """

    def post(
        event_type: str,
        obj: dict[str, Any],
        *,
        event_id: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        body: str | None = None,
        raise_request_exception: bool = True,
    ):
        event = {
            "id": event_id or "evt_" + secrets.token_hex(12),
            "object": "event",
            "api_version": "2017-08-15",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
        payload = json.dumps(event)
        signature = stripe.WebhookSignature.generate_signature_header(
            payload, secret or webhook_endpoint.secret, timestamp=timestamp
        )
        client = Client(raise_request_exception=raise_request_exception)
        return client.post(
            _endpoint_path(webhook_endpoint),
            data=payload if body is None else body,
            content_type="application/json",
            headers={"Stripe-Signature": signature},
        )

    return post


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """Poll `condition` until it returns something truthy (returned) or `timeout` passes (fail)."""

    def wait(condition: Callable[[], Any], timeout: float = 10.0, message: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:.0f} s waiting for {message or condition}")
            time.sleep(0.05)

    return wait
