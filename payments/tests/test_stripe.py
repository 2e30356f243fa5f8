"""Card payments against localstripe (a fake Stripe API started on loopback by conftest.py) and
dj-stripe's real webhook endpoint: paying, declines, refunds, signature checks, repeated and
shuffled events, late payments and reconciliation.

localstripe sends only payment_intent.* events; events it never sends (charge.refunded) are
built from its real objects, signed with the endpoint's secret and posted to the endpoint.
"""

import itertools
import threading
import time
import urllib.request
from decimal import Decimal
from types import SimpleNamespace

import pytest
import stripe
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from djstripe.models import Event, WebhookEventTrigger

from catalog.models import ProductVariant
from orders import services as order_services
from orders.models import Order, OrderStatusChange
from payments import tasks, webhooks
from payments.models import Payment, Refund
from payments.tests.factories import place_order

Status = Order.Status
CREATE = "/api/v1/payments/create-intent"
CONFIRM = "/api/v1/payments/confirm"
PAID_SUBJECT = "Evergreen Store: payment received for order {}"


def start(client, order: Order) -> dict:
    response = client.post(CREATE, {"order": order.number, "provider": "stripe"})
    assert response.status_code == 201, response.content
    return response.json()


def pay_at_stripe(intent_id: str, method: str = "pm_card_visa"):
    """What Stripe.js does in the shopper's browser: attach the card, confirm."""
    stripe.PaymentIntent.modify(intent_id, payment_method=method)
    return stripe.PaymentIntent.confirm(intent_id)


def paid_subjects(order: Order) -> list[str]:
    return [m.subject for m in mail.outbox if m.subject == PAID_SUBJECT.format(order.number)]


def state(order: Order) -> tuple:
    order.refresh_from_db()
    payment = order.payments.get()
    return (
        order.status,
        order.refunded_total,
        payment.status,
        payment.refunded_amount,
        tuple(sorted(order.refunds.values_list("amount", flat=True))),
    )


# --- Paying ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_card_payment_is_confirmed_by_the_signed_webhook(
    stripe_api, stripe_webhook, user, auth_client, wait_for
):
    order = place_order(user=user)
    mail.outbox.clear()

    body = start(auth_client, order)
    payment = Payment.objects.get(pk=body["payment"]["id"])
    assert body["publishable_key"] == stripe_api.public_key
    assert body["client_secret"].startswith(payment.reference + "_secret")
    intent = stripe.PaymentIntent.retrieve(payment.reference)
    assert (intent.amount, intent.currency, intent.metadata["order"]) == (4490, "eur", order.number)

    pay_at_stripe(payment.reference)
    # dj-stripe saves the webhook's record last, after our receiver has marked the order paid.
    wait_for(
        lambda: WebhookEventTrigger.objects.filter(valid=True, processed=True).exists(),
        message="the webhook",
    )
    assert Order.objects.get(pk=order.pk).status == Status.PAID

    payment.refresh_from_db()
    event = Event.objects.get(type="payment_intent.succeeded")
    assert (payment.status, payment.amount_received, payment.last_event_id) == (
        "succeeded",
        order.total,
        event.id,
    )
    assert WebhookEventTrigger.objects.get().valid
    wait_for(lambda: paid_subjects(order), message="the paid email")
    assert paid_subjects(order) == [PAID_SUBJECT.format(order.number)]


@pytest.mark.django_db(transaction=True)
def test_a_server_side_confirm_pays_at_once_and_the_webhook_adds_nothing(
    stripe_api, stripe_webhook, user, auth_client, wait_for
):
    order = place_order(user=user)
    payment_id = start(auth_client, order)["payment"]["id"]
    mail.outbox.clear()

    response = auth_client.post(CONFIRM, {"payment": payment_id, "payment_method": "pm_card_visa"})

    assert (response.status_code, response.json()["status"]) == (200, "succeeded")
    assert Order.objects.get(pk=order.pk).status == Status.PAID
    wait_for(lambda: Event.objects.filter(type="payment_intent.succeeded").exists())
    wait_for(lambda: stripe_api.pending_webhooks() == 0)
    assert OrderStatusChange.objects.filter(order=order, to_status=Status.PAID).count() == 1
    assert paid_subjects(order) == [PAID_SUBJECT.format(order.number)]


@pytest.mark.django_db(transaction=True)
def test_a_declined_card_leaves_the_order_payable_and_says_why(
    stripe_api, stripe_webhook, user, auth_client, wait_for
):
    order = place_order(user=user)
    payment_id = start(auth_client, order)["payment"]["id"]
    mail.outbox.clear()

    response = auth_client.post(
        CONFIRM, {"payment": payment_id, "payment_method": "pm_card_chargeCustomerFail"}
    )

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "card_declined"
    assert response.json()["error"]["message"] == "Your card was declined."
    wait_for(lambda: Event.objects.filter(type="payment_intent.payment_failed").exists())
    payment = Payment.objects.get(pk=payment_id)
    order.refresh_from_db()
    assert (payment.status, payment.failure_message) == ("failed", "Your card was declined.")
    assert (order.status, order.can_pay) == (Status.PENDING_PAYMENT, True)
    assert [m.subject for m in mail.outbox] == [
        f"Evergreen Store: your payment for order {order.number} did not go through"
    ]


@pytest.mark.django_db
def test_asking_twice_reuses_the_open_intent(stripe_api, user, auth_client):
    order = place_order(user=user)

    first, second = start(auth_client, order), start(auth_client, order)

    assert first["payment"]["id"] == second["payment"]["id"]
    assert first["client_secret"] == second["client_secret"]
    assert len(stripe.PaymentIntent.list()["data"]) == 1


# --- Refunds --------------------------------------------------------------------------------------


def paid_by_card(client, order: Order) -> Payment:
    payment_id = start(client, order)["payment"]["id"]
    response = client.post(CONFIRM, {"payment": payment_id, "payment_method": "pm_card_visa"})
    assert response.status_code == 200, response.content
    return Payment.objects.get(pk=payment_id)


def charge_of(payment: Payment) -> dict:
    intent = stripe.PaymentIntent.retrieve(payment.reference)
    charge = intent["latest_charge"]  # an id on Stripe, expanded by localstripe
    charge_id = charge if isinstance(charge, str) else charge["id"]
    return stripe.Charge.retrieve(charge_id).to_dict()


@pytest.mark.django_db
def test_a_refund_round_trip(
    stripe_api, webhook_endpoint, post_stripe_event, user, auth_client, staff_client, emails_sent
):
    order = place_order(user=user)
    with emails_sent():
        payment = paid_by_card(auth_client, order)
    requested = auth_client.post(
        f"/api/v1/orders/{order.number}/refund-request", {"reason": "It arrived broken"}
    )
    assert requested.status_code == 201
    mail.outbox.clear()

    with emails_sent():
        staff_client.post(
            reverse("admin:payments_refund_changelist"),
            {"action": "approve", "_selected_action": [requested.json()["id"]]},
        )

    refund = Refund.objects.get()
    charge = charge_of(payment)
    assert (refund.status, refund.reference) == ("succeeded", charge["refunds"]["data"][0]["id"])
    assert charge["amount_refunded"] == 4490
    assert state(order) == (Status.REFUNDED, order.total, "succeeded", order.total, (order.total,))
    assert [m.subject for m in mail.outbox] == [f"Evergreen Store: refund for order {order.number}"]

    # Stripe then reports the same refund: it is already counted.
    with emails_sent():
        assert post_stripe_event("charge.refunded", charge).status_code == 200
    assert state(order) == (Status.REFUNDED, order.total, "succeeded", order.total, (order.total,))
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_refund_made_in_stripes_dashboard_is_recorded(
    stripe_api, webhook_endpoint, post_stripe_event, user, auth_client, emails_sent
):
    order = place_order(user=user)
    payment = paid_by_card(auth_client, order)

    stripe.Refund.create(payment_intent=payment.reference, amount=1000)
    with emails_sent():
        response = post_stripe_event("charge.refunded", charge_of(payment))

    assert response.status_code == 200
    refund = Refund.objects.get()
    assert (refund.origin, refund.amount, refund.reference[:3]) == (
        "provider",
        Decimal("10.00"),
        "re_",
    )
    assert state(order)[:2] == (Status.PARTIALLY_REFUNDED, Decimal("10.00"))


# --- Webhook security and delivery ------------------------------------------------------------


@pytest.mark.django_db
def test_forged_webhooks_are_rejected(
    stripe_api, webhook_endpoint, post_stripe_event, user, auth_client
):
    order = place_order(user=user)
    payment = Payment.objects.get(pk=start(auth_client, order)["payment"]["id"])
    pay_at_stripe(payment.reference)  # no webhook registered: the store hears nothing
    intent = stripe.PaymentIntent.retrieve(payment.reference).to_dict()
    cheaper = {**intent, "amount": 1, "amount_received": 1}

    tampered = post_stripe_event("payment_intent.succeeded", intent, body='{"id": "evt_x"}')
    wrong_secret = post_stripe_event("payment_intent.succeeded", intent, secret="whsec_wrong")
    too_old = post_stripe_event(
        "payment_intent.succeeded", intent, timestamp=int(time.time()) - 301
    )
    forged_amount = post_stripe_event(
        "payment_intent.succeeded", cheaper, secret="whsec_" + "0" * 48
    )

    assert [r.status_code for r in (tampered, wrong_secret, too_old, forged_amount)] == [400] * 4
    assert not Event.objects.exists()
    assert WebhookEventTrigger.objects.filter(valid=True).count() == 0
    assert Order.objects.get(pk=order.pk).status == Status.PENDING_PAYMENT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_ten_times_at_once_pays_once_and_emails_once(
    stripe_api, webhook_endpoint, post_stripe_event, live_server, user, auth_client
):
    order = place_order(user=user)
    payment = Payment.objects.get(pk=start(auth_client, order)["payment"]["id"])
    pay_at_stripe(payment.reference)
    intent = stripe.PaymentIntent.retrieve(payment.reference).to_dict()
    payload, signature = signed(webhook_endpoint, "payment_intent.succeeded", intent)
    url = live_server.url + reverse(
        "djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": webhook_endpoint.djstripe_uuid}
    )
    mail.outbox.clear()
    barrier = threading.Barrier(10)
    statuses = []

    def deliver() -> None:
        request = urllib.request.Request(
            url,
            data=payload.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        barrier.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            statuses.append(response.status)

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 10
    assert Event.objects.count() == 1
    assert OrderStatusChange.objects.filter(order=order, to_status=Status.PAID).count() == 1
    assert paid_subjects(order) == [PAID_SUBJECT.format(order.number)]


def signed(endpoint, event_type: str, obj: dict) -> tuple[str, str]:
    import json

    event = {
        "id": f"evt_{obj['id']}_{event_type}",
        "object": "event",
        "api_version": "2017-08-15",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }
    payload = json.dumps(event)
    return payload, stripe.WebhookSignature.generate_signature_header(payload, endpoint.secret)


@pytest.mark.django_db
def test_events_in_any_order_end_in_the_same_state(
    stripe_api, webhook_endpoint, post_stripe_event, user, auth_client
):
    """A failed try, the success, then a partial refund, delivered in all six orders."""
    finals = set()
    for order_of_events in itertools.permutations(["failed", "succeeded", "refunded"]):
        order = place_order(user=user)
        payment = Payment.objects.get(pk=start(auth_client, order)["payment"]["id"])
        pay_at_stripe(payment.reference)
        stripe.Refund.create(payment_intent=payment.reference, amount=1490)
        succeeded = stripe.PaymentIntent.retrieve(payment.reference).to_dict()
        # localstripe cannot retry a declined intent, so the earlier failed try is this intent
        # as Stripe reported it then.
        failed = {
            **succeeded,
            "status": "requires_payment_method",
            "amount_received": 0,
            "last_payment_error": {"code": "card_declined", "message": "Declined."},
        }
        events = {
            "failed": ("payment_intent.payment_failed", failed),
            "succeeded": ("payment_intent.succeeded", succeeded),
            "refunded": ("charge.refunded", charge_of(payment)),
        }
        for name in order_of_events:
            event_type, obj = events[name]
            assert post_stripe_event(event_type, obj).status_code == 200
        finals.add(state(order))

    assert finals == {
        (
            Status.PARTIALLY_REFUNDED,
            Decimal("14.90"),
            "succeeded",
            Decimal("14.90"),
            (Decimal("14.90"),),
        )
    }


@pytest.mark.django_db
def test_a_dispute_flags_the_order(stripe_api, user, auth_client):
    # dj-stripe's own handler of charge.dispute.created fetches the dispute from Stripe, and
    # localstripe has no disputes: the store's receiver is called as dj-stripe would call it.
    order = place_order(user=user)
    payment = paid_by_card(auth_client, order)
    event = SimpleNamespace(
        id="evt_dispute",
        data={
            "object": {"id": "dp_1", "payment_intent": payment.reference, "reason": "fraudulent"}
        },
    )

    webhooks.on_dispute_created(sender=Event, event=event)

    order.refresh_from_db()
    payment.refresh_from_db()
    assert "Disputed by the card holder (fraudulent)." in order.attention
    assert payment.problem == "Disputed by the card holder (fraudulent)."
    assert order.status == Status.PAID


@pytest.mark.django_db
def test_a_payment_that_does_not_match_the_order_is_flagged_not_paid(
    stripe_api, webhook_endpoint, post_stripe_event, user, auth_client
):
    order = place_order(user=user)
    payment = Payment.objects.get(pk=start(auth_client, order)["payment"]["id"])
    pay_at_stripe(payment.reference)
    intent = stripe.PaymentIntent.retrieve(payment.reference).to_dict()

    post_stripe_event("payment_intent.succeeded", {**intent, "currency": "usd"})

    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT
    assert order.attention.startswith("Payment mismatch: Received 44.90 USD")


# --- Late payments and reconciliation ---------------------------------------------------------


@pytest.mark.django_db
def test_a_card_payment_after_expiry_when_sold_out_is_refunded_at_stripe(
    stripe_api, webhook_endpoint, post_stripe_event, user, auth_client, emails_sent
):
    order = place_order(user=user, quantity=2, stock=2)
    payment = Payment.objects.get(pk=start(auth_client, order)["payment"]["id"])
    order_services.orders_expire_unpaid(now=timezone.now() + timezone.timedelta(hours=2))
    ProductVariant.objects.filter(pk=order.lines.get().variant_id).update(stock=0)
    pay_at_stripe(payment.reference)
    intent = stripe.PaymentIntent.retrieve(payment.reference).to_dict()

    with emails_sent():
        post_stripe_event("payment_intent.succeeded", intent)

    assert charge_of(payment)["amount_refunded"] == 4490
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert Refund.objects.get().origin == "automatic"


@pytest.mark.django_db
def test_reconciliation_processes_events_that_never_arrived(
    stripe_api, user, auth_client, emails_sent
):
    order = place_order(user=user)
    payment = Payment.objects.get(pk=start(auth_client, order)["payment"]["id"])
    pay_at_stripe(payment.reference)  # no webhook endpoint: the event is never delivered
    assert Order.objects.get(pk=order.pk).status == Status.PENDING_PAYMENT
    mail.outbox.clear()

    with emails_sent():
        first = tasks.reconcile_stripe()
        second = tasks.reconcile_stripe()

    assert first["events"] == 1
    assert second == {"events": 0, "payments": 0}
    assert Order.objects.get(pk=order.pk).status == Status.PAID
    assert Event.objects.filter(type="payment_intent.succeeded").count() == 1
    assert paid_subjects(order) == [PAID_SUBJECT.format(order.number)]
