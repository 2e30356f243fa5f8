"""Stock races that only a real PostgreSQL shows (SQLite serialises every write)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from catalog import services
from catalog.exceptions import InsufficientStock
from catalog.models import ProductVariant, StockMovement
from catalog.services import StockLine
from catalog.tests.factories import VariantFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(fn, args: list) -> list:
    """Run fn(arg) for every arg in its own thread and connection, released at the same moment."""
    start = threading.Barrier(len(args))

    def run(arg):
        try:
            start.wait()
            return fn(arg)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(args)) as pool:
        return list(pool.map(run, args))


def reserve(lines: list[StockLine]) -> str:
    try:
        services.stock_reserve(lines=lines, reference="race")
    except InsufficientStock:
        return "refused"
    return "reserved"


def test_the_last_item_is_sold_once():
    variant = VariantFactory(stock=1)

    outcomes = run_together(reserve, [[StockLine(variant.pk, 1)]] * 8)

    assert sorted(outcomes) == ["refused"] * 7 + ["reserved"]
    variant.refresh_from_db()
    assert variant.stock == 0
    assert StockMovement.objects.filter(variant=variant).count() == 1


def test_orders_for_the_same_goods_in_opposite_order_do_not_deadlock():
    a, b = VariantFactory(stock=50), VariantFactory(stock=50)
    forward = [StockLine(a.pk, 1), StockLine(b.pk, 1)]
    backward = [StockLine(b.pk, 1), StockLine(a.pk, 1)]

    outcomes = run_together(reserve, [forward, backward] * 5)

    assert outcomes == ["reserved"] * 10
    assert dict(ProductVariant.objects.values_list("pk", "stock")) == {a.pk: 40, b.pk: 40}
    ledger_total = sum(StockMovement.objects.values_list("delta", flat=True))
    assert ledger_total == -20


def test_concurrent_restocks_and_sales_keep_the_ledger_equal_to_the_stock():
    variant = VariantFactory(stock=0)
    services.stock_adjust(variant=variant, delta=10, reason="restock")

    def work(n: int) -> str:
        if n % 2:
            services.stock_adjust(variant=variant.pk, delta=1, reason="restock")
            return "restocked"
        return reserve([StockLine(variant.pk, 2)])

    run_together(work, list(range(12)))

    variant.refresh_from_db()
    movements = StockMovement.objects.filter(variant=variant).order_by("pk")
    assert variant.stock == sum(m.delta for m in movements)
    assert variant.stock >= 0
    assert [m.quantity_after for m in movements][-1] == variant.stock
