"""What every page's header needs from the cart."""

import uuid
from functools import cache

from django.db.models import Sum
from django.http import HttpRequest

from orders.models import CartItem
from orders.services import CART_SESSION_KEY


def cart(request: HttpRequest) -> dict:
    """`cart_item_count`: how many items are in the shopper's cart.

    Counted only when a template shows it, with one query; none for a visitor without a cart.
    A page that has the cart's lines at hand passes its own `cart_item_count`, which wins.
    """

    @cache
    def count() -> int:
        return cart_item_count(request)

    return {"cart_item_count": count}


def cart_item_count(request: HttpRequest) -> int:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        items = CartItem.objects.filter(cart__user_id=user.pk)
    else:
        session = getattr(request, "session", None)
        token = session.get(CART_SESSION_KEY) if session is not None else None
        if not _is_uuid(token):
            return 0
        items = CartItem.objects.filter(cart__token=token, cart__user__isnull=True)
    return items.aggregate(count=Sum("quantity"))["count"] or 0


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return bool(value)
