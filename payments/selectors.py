"""Reads of payments and refunds, scoped to who asks."""

from django.db.models import Q, QuerySet

from orders import tokens
from payments.models import Payment, Refund


def orders_scope(*, user=None, guest_token: str = "", prefix: str = "order__") -> Q:
    """Orders a shopper owns: a member's, or the guest order their access token names.
    `prefix` leads from the queried model to the order ("" when querying orders)."""
    scope = Q(pk__in=[])
    if user is not None and user.is_authenticated:
        scope |= Q(**{f"{prefix}user": user})
    order_id = tokens.guest_token_check(guest_token) if guest_token else None
    if order_id is not None:
        scope |= Q(**{f"{prefix}pk": order_id, f"{prefix}user__isnull": True})
    return scope


def payments_of(*, user=None, guest_token: str = "") -> QuerySet[Payment]:
    """Payments a requester may see: staff all; a member those of their orders; a guest those
    of the order their access token names. Anybody else's payment is simply not there (404)."""
    payments = Payment.objects.select_related("order")
    if user is not None and user.is_authenticated and user.is_staff:
        return payments
    return payments.filter(orders_scope(user=user, guest_token=guest_token))


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


def refunds_with_lines() -> QuerySet[Refund]:
    return Refund.objects.select_related("order").prefetch_related("lines__order_line")


def refunds_of(*, user=None, guest_token: str = "") -> QuerySet[Refund]:
    """Refunds a shopper may list: of their orders, or of the guest order of their token."""
    return refunds_with_lines().filter(orders_scope(user=user, guest_token=guest_token))
