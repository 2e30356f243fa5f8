"""Buyers racing for the same goods, on a real PostgreSQL with real threads.

Each buyer runs in its own thread with its own database connection; a barrier releases them
together. This server allows 100 connections in all, so at most 40 buyers run at one instant.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import ProductVariant, StockMovement
from catalog.tests.factories import VariantFactory
from orders import services
from orders.exceptions import DiscountInvalid
from orders.models import DiscountCode, DiscountRedemption, Order
from orders.tests.factories import (
    ADDRESS,
    CartFactory,
    CartItemFactory,
    DiscountCodeFactory,
    ShippingMethodFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
MAX_THREADS = 40


def all_at_once(fn, args: list) -> list:
    """fn(arg) for every arg, in threads released together; returns results or exceptions."""
    threads = min(len(args), MAX_THREADS)
    start = threading.Barrier(threads)
    started = threading.local()

    def run(arg):
        try:
            if not getattr(started, "done", False):
                started.done = True
                start.wait(timeout=30)
            return fn(arg)
        except Exception as exc:  # collected and asserted on by the test
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, args))


def buy(cart, *, method, discount_code=""):
    return services.order_place(
        cart=cart,
        email=f"buyer{cart.pk}@example.com",
        shipping_address=ADDRESS,
        shipping_method=method,
        discount_code=discount_code,
    )


def test_100_buyers_for_25_items_get_exactly_25_orders():
    """Through the API, as apps do it: each buyer checks out the cart its X-Session-ID names."""
    variant = VariantFactory(stock=25)
    method = ShippingMethodFactory()
    carts = [CartItemFactory(variant=variant, quantity=1).cart for _ in range(100)]

    def checkout(cart):
        return APIClient().post(
            reverse("api:guest-checkout"),
            {
                "email": f"buyer{cart.pk}@example.com",
                "shipping_address": ADDRESS,
                "shipping_method": method.pk,
            },
            format="json",
            headers={"X-Session-ID": str(cart.token)},
        )

    responses = all_at_once(checkout, carts)

    statuses = sorted(getattr(r, "status_code", repr(r)) for r in responses)
    assert statuses == [201] * 25 + [409] * 75
    for response in responses:
        if response.status_code == 409:
            error = response.json()["error"]
            assert error["code"] in ("insufficient_stock", "cart_has_problems")
            assert [(line["sku"], line["problem"]) for line in error["lines"]] == [
                (variant.sku, "sold_out")
            ]
    assert ProductVariant.objects.get(pk=variant.pk).stock == 0
    assert Order.objects.count() == 25
    assert StockMovement.objects.filter(variant=variant, reason="order_reserved").count() == 25


def test_two_line_carts_in_opposite_orders_do_not_deadlock():
    a, b = VariantFactory(stock=100), VariantFactory(stock=100)
    method = ShippingMethodFactory()
    carts = []
    for n in range(8):
        cart = CartFactory()
        first, second = (a, b) if n % 2 else (b, a)
        CartItemFactory(cart=cart, variant=first, quantity=2)
        CartItemFactory(cart=cart, variant=second, quantity=3)
        carts.append(cart)

    outcomes = all_at_once(lambda cart: buy(cart, method=method), carts)

    assert all(isinstance(o, Order) for o in outcomes), outcomes
    assert dict(ProductVariant.objects.values_list("pk", "stock")) == {a.pk: 80, b.pk: 80}


def test_a_single_use_code_is_applied_once_among_10_buyers():
    DiscountCodeFactory(code="ONLYONE", usage_limit=1)
    method = ShippingMethodFactory()
    carts = [CartItemFactory(quantity=1).cart for _ in range(10)]

    outcomes = all_at_once(lambda cart: buy(cart, method=method, discount_code="ONLYONE"), carts)

    placed = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, DiscountInvalid)]
    assert len(placed) == 1
    assert [e.code for e in refused] == ["discount_used_up"] * 9
    assert DiscountCode.objects.get(code="ONLYONE").times_used == 1
    assert DiscountRedemption.objects.count() == 1
    # The nine refused buyers kept their carts and their stock was not touched.
    assert StockMovement.objects.filter(reason="order_reserved").count() == 1


def test_expiry_running_twice_at_once_returns_stock_once():
    variant = VariantFactory(stock=6)
    method = ShippingMethodFactory()
    orders = [
        buy(CartItemFactory(variant=variant, quantity=2).cart, method=method) for _ in range(3)
    ]
    Order.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    expired = all_at_once(lambda _: services.orders_expire_unpaid(), range(4))

    assert sum(expired) == 3
    assert ProductVariant.objects.get(pk=variant.pk).stock == 6
    for order in orders:
        assert (
            StockMovement.objects.filter(
                reference=f"order:{order.number}", reason="order_released"
            ).count()
            == 1
        )
