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


def refunds_of(*, user) -> QuerySet[Refund]:
    return (
        Refund.objects.filter(order__user=user)
        .select_related("order")
        .prefetch_related("lines__order_line")
    )
