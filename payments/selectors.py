"""Reads of payments and refunds, scoped to who asks."""

from django.db.models import Q, QuerySet

from orders import tokens
from payments.models import Payment, Refund


def payments_of(*, user=None, guest_token: str = "") -> QuerySet[Payment]:
    """Payments a requester may see: staff all; a member those of their orders; a guest those
    of the order their access token names. Anybody else's payment is simply not there (404)."""
    payments = Payment.objects.select_related("order")
    if user is not None and user.is_authenticated and user.is_staff:
        return payments
    scope = Q(pk__in=[])
    if user is not None and user.is_authenticated:
        scope |= Q(order__user=user)
    order_id = tokens.guest_token_check(guest_token) if guest_token else None
    if order_id is not None:
        scope |= Q(order_id=order_id, order__user__isnull=True)
    return payments.filter(scope)


PAYMENT_STATES = {
    "none": "Not paid yet",
    "awaiting_transfer": "Awaiting your payment (bank transfer or at pickup)",
    "processing": "Your payment is being processed",
    "failed": "Your last payment attempt failed",
    "paid": "Paid",
    "partially_refunded": "Paid, partly refunded",
    "refunded": "Refunded",
}


def payment_state(order) -> dict:
    """The order's payment as the shopper should read it, derived from its payment rows: the
    payment that counted (succeeded, not a duplicate), else the latest attempt."""
    payments = list(order.payments.order_by("-pk")[:20])
    counted = next((p for p in payments if p.status == "succeeded" and not p.problem), None)
    latest = payments[0] if payments else None
    if counted is not None:
        if counted.refunded_amount and counted.refunded_amount >= counted.amount_received:
            code = "refunded"
        elif counted.refunded_amount:
            code = "partially_refunded"
        else:
            code = "paid"
        payment = counted
    elif latest is None or latest.status == "cancelled":
        code, payment = "none", None
    elif latest.status == "failed":
        code, payment = "failed", latest
    elif latest.provider == Payment.Provider.MANUAL:
        code, payment = "awaiting_transfer", latest
    elif latest.status == "processing":
        code, payment = "processing", latest
    else:
        code, payment = "none", latest
    return {"code": code, "label": PAYMENT_STATES[code], "payment": payment}


def refunds_of(*, user) -> QuerySet[Refund]:
    return (
        Refund.objects.filter(order__user=user)
        .select_related("order")
        .prefetch_related("lines__order_line")
    )
