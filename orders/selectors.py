"""Reads of orders, with the prefetches their pages and API outputs need."""

from django.db.models import QuerySet

from orders.models import Order

DETAILS = ("lines", "status_changes")


def orders_with_details() -> QuerySet[Order]:
    """Orders with their lines and status history: the same queries for one order or a page."""
    return Order.objects.prefetch_related(*DETAILS)


def orders_of(user) -> QuerySet[Order]:
    """A member's own orders, newest first."""
    return orders_with_details().filter(user=user)
