from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog import services
from catalog.exceptions import CatalogError, InsufficientStock, StockNotTracked
from catalog.models import Product, ProductVariant, StockMovement
from catalog.services import StockLine
from catalog.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db
Reason = StockMovement.Reason


def test_stock_adjust_changes_stock_and_writes_one_ledger_row(user):
    variant = VariantFactory(stock=3)

    movement = services.stock_adjust(
        variant=variant, delta=7, reason=Reason.RESTOCK, user=user, reference="PO-17"
    )

    variant.refresh_from_db()
    assert variant.stock == 10
    assert list(variant.stock_movements.values_list("delta", "quantity_after", "reason")) == [
        (7, 10, "restock")
    ]
    assert movement.created_by == user
    assert movement.reference == "PO-17"


def test_stock_adjust_refuses_to_go_below_zero_and_records_nothing():
    variant = VariantFactory(stock=2)

    with pytest.raises(InsufficientStock) as refused:
        services.stock_adjust(variant=variant, delta=-3, reason=Reason.CORRECTION)

    assert refused.value.shortages == [
        {"variant_id": variant.pk, "sku": variant.sku, "requested": 3, "available": 2}
    ]
    variant.refresh_from_db()
    assert variant.stock == 2
    assert not StockMovement.objects.exists()


def test_stock_adjust_needs_a_tracked_variant_and_a_real_change():
    untracked = VariantFactory(track_inventory=False, stock=0)
    with pytest.raises(StockNotTracked):
        services.stock_adjust(variant=untracked, delta=1, reason=Reason.RESTOCK)
    with pytest.raises(ValueError, match="non-zero"):
        services.stock_adjust(variant=VariantFactory(), delta=0, reason=Reason.RESTOCK)


def test_stock_set_records_the_difference_as_a_correction():
    variant = VariantFactory(stock=10)

    movement = services.stock_set(variant=variant, quantity=4, note="Counted")

    assert (movement.delta, movement.quantity_after, movement.reason) == (-6, 4, "correction")
    assert services.stock_set(variant=variant, quantity=4) is None
    with pytest.raises(CatalogError) as refused:
        services.stock_set(variant=variant, quantity=-1)
    assert refused.value.fields == {"quantity": ["Stock cannot be negative."]}


def test_the_database_refuses_negative_stock():
    variant = VariantFactory(stock=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductVariant.objects.filter(pk=variant.pk).update(stock=-1)


def test_reserve_takes_all_lines_and_writes_the_ledger():
    a, b = VariantFactory(stock=5), VariantFactory(stock=2)
    download = VariantFactory(track_inventory=False, stock=0)

    services.stock_reserve(
        lines=[
            StockLine(b.pk, 2),
            StockLine(a.pk, 1),
            StockLine(a.pk, 2),
            StockLine(download.pk, 1),
        ],
        reference="order:41",
    )

    assert dict(ProductVariant.objects.values_list("pk", "stock")) == {
        a.pk: 2,
        b.pk: 0,
        download.pk: 0,
    }
    rows = StockMovement.objects.order_by("variant_id").values_list(
        "variant_id", "delta", "quantity_after", "reason", "reference"
    )
    assert list(rows) == [
        (a.pk, -3, 2, "order_reserved", "order:41"),
        (b.pk, -2, 0, "order_reserved", "order:41"),
    ]


def test_reserve_is_all_or_nothing_and_names_every_shortage():
    plenty, short = VariantFactory(stock=9), VariantFactory(stock=1)
    hidden = VariantFactory(product=ProductFactory(status=Product.Status.DRAFT), stock=9)

    with pytest.raises(InsufficientStock) as refused:
        services.stock_reserve(
            lines=[StockLine(plenty.pk, 1), StockLine(short.pk, 2), StockLine(hidden.pk, 1)],
            reference="order:42",
        )

    assert {s["variant_id"]: s["available"] for s in refused.value.shortages} == {
        short.pk: 1,
        hidden.pk: 0,
    }
    assert dict(ProductVariant.objects.values_list("pk", "stock")) == {
        plenty.pk: 9,
        short.pk: 1,
        hidden.pk: 9,
    }
    assert not StockMovement.objects.exists()


def test_release_gives_stock_back():
    variant = VariantFactory(stock=0)

    services.stock_release(lines=[StockLine(variant.pk, 2)], reference="order:43")

    variant.refresh_from_db()
    assert variant.stock == 2
    assert variant.stock_movements.get().reason == "order_released"


def test_product_create_with_one_variant_records_initial_stock(user):
    product = services.product_create(
        data={"name": "Juniper Bonsai", "status": "published"},
        variants=[{"sku": "JUN-1", "price": Decimal("49.00"), "stock": 3}],
        tags=["juniper", "Outdoor", "juniper"],
        user=user,
    )

    assert product.slug == "juniper-bonsai"
    variant = product.variants.get()
    assert (variant.sku, variant.stock) == ("JUN-1", 3)
    assert variant.stock_movements.get().reason == "restock"
    assert sorted(product.tags.values_list("name", flat=True)) == ["Outdoor", "juniper"]


def test_product_create_slug_is_unique():
    first = services.product_create(data={"name": "Shears"}, variants=[{"sku": "S1", "price": 1}])
    second = services.product_create(data={"name": "Shears"}, variants=[{"sku": "S2", "price": 1}])
    assert (first.slug, second.slug) == ("shears", "shears-2")


def test_digital_product_variants_do_not_track_stock():
    product = services.product_create(
        data={"name": "Wiring Guide", "kind": "digital"}, variants=[{"sku": "EB-1", "price": 9}]
    )
    assert product.variants.get().track_inventory is False


def test_product_delete_removes_a_product_without_history():
    product = ProductFactory(variants=1, variants__stock=0)
    assert services.product_delete(product=product) is True
    assert not Product.objects.filter(pk=product.pk).exists()


def test_product_delete_archives_a_product_with_stock_history():
    product = ProductFactory(variants=1, variants__stock=0)
    services.stock_adjust(variant=product.variants.get(), delta=2, reason=Reason.RESTOCK)

    assert services.product_delete(product=product) is False

    product.refresh_from_db()
    assert product.status == Product.Status.ARCHIVED
    assert product.variants.get().stock_movements.count() == 1


def test_stock_adjust_many_is_all_or_nothing():
    tracked, untracked = VariantFactory(stock=1), VariantFactory(track_inventory=False, stock=0)

    with pytest.raises(StockNotTracked):
        services.stock_adjust_many(variants=[tracked, untracked], mode="restock", quantity=4)

    tracked.refresh_from_db()
    assert tracked.stock == 1
    assert not StockMovement.objects.exists()


def test_stock_adjust_many_counts_and_skips_unchanged_variants(user):
    a, b = VariantFactory(stock=3), VariantFactory(stock=5)

    movements = services.stock_adjust_many(
        variants=[b, a], mode="count", quantity=5, user=user, reference="COUNT-11"
    )

    assert [(m.variant_id, m.delta, m.reference) for m in movements] == [(a.pk, 2, "COUNT-11")]
    assert dict(ProductVariant.objects.values_list("pk", "stock")) == {a.pk: 5, b.pk: 5}


def test_saving_a_variant_read_earlier_does_not_undo_a_stock_movement():
    variant = VariantFactory(stock=10)
    stale = ProductVariant.objects.get(pk=variant.pk)
    services.stock_adjust(variant=variant, delta=-3, reason=Reason.ORDER_RESERVED)

    stale.price = Decimal("5.00")
    stale.save()

    variant.refresh_from_db()
    assert (variant.price, variant.stock) == (Decimal("5.00"), 7)
