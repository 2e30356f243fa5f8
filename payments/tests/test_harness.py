"""The localstripe harness works end to end: stripe-python -> localstripe -> webhook -> dj-stripe.

These run on SQLite and on PostgreSQL (DATABASE_URL), so the payment tests built on the same
fixtures can trust them on both.
"""

import time

import pytest
import stripe
from djstripe.models import Charge, Event, PaymentIntent, Refund, WebhookEventTrigger


@pytest.mark.django_db(transaction=True)
def test_confirmed_intent_reaches_djstripe_through_the_webhook(stripe_webhook, wait_for):
    intent = stripe.PaymentIntent.create(
        amount=2500,
        currency="eur",
        payment_method="pm_card_visa",
        confirm=True,
        metadata={"order_number": "ORD-HARNESS-1"},
    )
    assert intent.status == "succeeded"

    # The trigger is saved as processed only after dj-stripe's transaction has committed.
    trigger = wait_for(
        lambda: WebhookEventTrigger.objects.filter(
            processed=True, event__type="payment_intent.succeeded"
        ).first(),
        message="a processed payment_intent.succeeded webhook",
    )
    event = Event.objects.get(id=trigger.event_id)
    assert event.data["object"]["id"] == intent.id
    synced = PaymentIntent.objects.get(id=intent.id)
    assert synced.stripe_data["status"] == "succeeded"
    assert synced.stripe_data["amount"] == 2500
    assert synced.stripe_data["metadata"] == {"order_number": "ORD-HARNESS-1"}
    assert trigger.valid
    assert trigger.webhook_endpoint_id == stripe_webhook.id
    failed = WebhookEventTrigger.objects.exclude(exception="")
    assert not failed.exists(), list(failed.values_list("exception", "traceback"))


@pytest.mark.django_db
def test_declined_card_raises_card_error(stripe_api):
    with pytest.raises(stripe.error.CardError) as excinfo:
        stripe.PaymentIntent.create(
            amount=2500,
            currency="eur",
            payment_method="pm_card_chargeCustomerFail",
            confirm=True,
            metadata={"order_number": "ORD-HARNESS-2"},
        )
    assert excinfo.value.code == "card_declined"


@pytest.mark.django_db
def test_self_signed_event_is_processed(stripe_api, post_stripe_event):
    intent = stripe.PaymentIntent.create(
        amount=2500, currency="eur", payment_method="pm_card_visa", confirm=True
    )
    refund = stripe.Refund.create(payment_intent=intent.id, amount=1000)
    charge = stripe.Charge.retrieve(intent.latest_charge.id).to_dict()

    # localstripe sends no charge.refunded: the test sends it; dj-stripe re-fetches the charge.
    response = post_stripe_event("charge.refunded", charge)

    assert response.status_code == 200
    trigger = WebhookEventTrigger.objects.get()
    assert (trigger.valid, trigger.processed, trigger.exception) == (True, True, "")
    assert Charge.objects.get(id=charge["id"]).stripe_data["amount_refunded"] == 1000
    assert Refund.objects.filter(id=refund.id).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "whsec_not_the_endpoint_secret"},
        {"timestamp": int(time.time()) - 301},
        {"body": '{"id": "evt_forged", "livemode": false}'},
    ],
    ids=["wrong-secret", "too-old", "tampered-body"],
)
def test_badly_signed_event_is_rejected(stripe_api, post_stripe_event, tamper):
    response = post_stripe_event("payment_intent.succeeded", {"id": "pi_x"}, **tamper)

    assert response.status_code == 400
    assert not Event.objects.exists()
    assert WebhookEventTrigger.objects.get().valid is False
