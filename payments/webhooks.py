"""Stripe's events, as dj-stripe receives them, turned into payment changes.

dj-stripe verifies the signature, stores the event once (a repeat of a known event id is not
processed again) and syncs its own copies of Stripe's objects; then it sends the signals
connected here, inside its transaction: if a handler fails, the event is rolled back and Stripe
(or the reconciliation task) delivers it again. Handlers read the object carried by the event
and only move a payment forward, so events arriving twice or out of order end the same way.
"""

import logging

from djstripe.signals import WEBHOOK_SIGNALS

from payments import services
from payments.models import Payment
from payments.providers.stripe import from_minor, intent_outcome

logger = logging.getLogger(__name__)

INTENT_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.canceled",
)
CHARGE_EVENTS = ("charge.refunded", "charge.dispute.created")
EVENTS = (*INTENT_EVENTS, *CHARGE_EVENTS)


def _payment(intent_id: str | None) -> Payment | None:
    payment = (
        Payment.objects.filter(provider=Payment.Provider.STRIPE, reference=intent_id).first()
        if intent_id
        else None
    )
    if payment is None:
        logger.info("stripe_event_unknown_intent", extra={"intent": intent_id})
    return payment


def on_intent_event(sender, event, **kwargs) -> None:
    intent = event.data["object"]
    payment = _payment(intent.get("id"))
    if payment is not None:
        services.payment_apply(payment=payment, outcome=intent_outcome(intent), event_id=event.id)


def on_charge_refunded(sender, event, **kwargs) -> None:
    charge = event.data["object"]
    payment = _payment(charge.get("payment_intent"))
    if payment is None:
        return
    currency = str(charge["currency"]).upper()
    if charge.get("paid") and charge.get("status") == "succeeded":
        # The refund may be told before the success: a refunded charge was paid first.
        captured = charge.get("amount_captured") or charge["amount"]
        services.payment_succeeded(
            payment=payment,
            amount=from_minor(captured, currency),
            currency=currency,
            event_id=event.id,
        )
    refunds = (charge.get("refunds") or {}).get("data") or []
    services.refunds_sync_from_provider(
        payment=payment,
        refunded_total=from_minor(charge.get("amount_refunded") or 0, currency),
        reference=refunds[0]["id"] if refunds else "",
        event_id=event.id,
    )


def on_dispute_created(sender, event, **kwargs) -> None:
    dispute = event.data["object"]
    intent_id = dispute.get("payment_intent") or _intent_of_charge(dispute.get("charge"))
    payment = _payment(intent_id)
    if payment is not None:
        reason = dispute.get("reason") or "unknown reason"
        services.payment_flag(payment=payment, problem=f"Disputed by the card holder ({reason}).")


def _intent_of_charge(charge_id: str | None) -> str | None:
    """Older API versions name only the charge on a dispute; dj-stripe has synced it."""
    from djstripe.models import Charge

    charge = Charge.objects.filter(id=charge_id).first() if charge_id else None
    return charge.stripe_data.get("payment_intent") if charge is not None else None


def connect() -> None:
    for name in INTENT_EVENTS:
        WEBHOOK_SIGNALS[name].connect(on_intent_event, dispatch_uid=f"payments:{name}")
    WEBHOOK_SIGNALS["charge.refunded"].connect(
        on_charge_refunded, dispatch_uid="payments:charge.refunded"
    )
    WEBHOOK_SIGNALS["charge.dispute.created"].connect(
        on_dispute_created, dispatch_uid="payments:charge.dispute.created"
    )
