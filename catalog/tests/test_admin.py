"""The catalogue's staff screens, through Django's test client signed in as staff."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import services
from catalog.models import Category, Product, ProductVariant, StockMovement
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    TagFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db
Reason = StockMovement.Reason
Status = Product.Status

PRODUCTS = reverse("admin:catalog_product_changelist")
VARIANTS = reverse("admin:catalog_productvariant_changelist")
LEDGER = reverse("admin:catalog_stockmovement_changelist")


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def variant_rows(*rows: dict, prefix: str = "variants", initial: int = 0) -> dict:
    """POST data of the variant inline: `rows` are the rows' fields."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "1",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        row = {
            "low_stock_threshold": "5",
            "track_inventory": "on",
            "is_active": "on",
            "position": str(i),
            **row,
        }
        data.update(
            {f"{prefix}-{i}-{key}": value for key, value in row.items() if value is not None}
        )
    return data


EMPTY_MEDIA_INLINES = {
    "images-TOTAL_FORMS": "0",
    "images-INITIAL_FORMS": "0",
    "models_3d-TOTAL_FORMS": "0",
    "models_3d-INITIAL_FORMS": "0",
}


# --- Every screen opens -------------------------------------------------------------------------


def test_every_catalogue_screen_opens_for_staff(staff_client, staff):
    product = ProductFactory(variants=2, tags=["gift"])
    ProductImageFactory(product=product)
    variant = product.variants.first()
    services.stock_adjust(variant=variant, delta=3, reason=Reason.RESTOCK, user=staff)
    child = CategoryFactory(parent=product.category)
    urls = [
        PRODUCTS,
        PRODUCTS + "?stock=low",
        PRODUCTS + "?stock=out",
        PRODUCTS + f"?q={variant.sku}",
        reverse("admin:catalog_product_add"),
        reverse("admin:catalog_product_change", args=[product.pk]),
        reverse("admin:catalog_product_delete", args=[product.pk]),
        VARIANTS,
        VARIANTS + "?stock=low&track_inventory__exact=1&product__status__exact=published",
        VARIANTS + "?stock=out",
        reverse("admin:catalog_productvariant_add"),
        reverse("admin:catalog_productvariant_change", args=[variant.pk]),
        reverse("admin:catalog_productvariant_import"),
        reverse("admin:catalog_productvariant_export"),
        LEDGER,
        LEDGER + f"?variant__id__exact={variant.pk}&reason__exact=restock",
        reverse("admin:catalog_stockmovement_change", args=[variant.stock_movements.get().pk]),
        reverse("admin:catalog_category_changelist"),
        reverse("admin:catalog_category_change", args=[child.pk]),
        reverse("admin:catalog_category_add"),
        reverse("admin:catalog_tag_changelist") + "?q=gift",
        reverse("admin:catalog_tag_add"),
    ]

    for url in urls:
        assert staff_client.get(url).status_code == 200, url


def test_shoppers_are_sent_to_the_admin_login(client, user):
    client.force_login(user)

    response = client.get(PRODUCTS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_product_page_previews_image_thumbnails(staff_client):
    image = ProductImageFactory(alt_text="Pine in spring")

    response = staff_client.get(reverse("admin:catalog_product_change", args=[image.product.pk]))

    assert image.thumbnail.url.endswith(".webp")
    assert f'<img src="{image.thumbnail.url}" alt="Pine in spring"'.encode() in response.content


# --- Product list -------------------------------------------------------------------------------


def test_product_list_costs_the_same_queries_for_3_or_30_products(
    staff_client, django_assert_num_queries
):
    def add_products(n):
        for _ in range(n):
            product = ProductFactory(variants=2, variants__stock=3, tags=["bonsai"])
            ProductImageFactory(product=product)

    add_products(3)
    few = count_queries(staff_client, PRODUCTS)
    add_products(27)
    many = count_queries(staff_client, PRODUCTS)

    # Session, user, category filter choices, the two counts (page and total), the page itself.
    assert few == many == 6
    with django_assert_num_queries(6):
        response = staff_client.get(PRODUCTS + "?stock=low&status__exact=published")
    assert response.context["cl"].result_count == 30


def test_product_list_shows_total_tracked_stock_low_marker_and_price_range(staff_client):
    product = ProductFactory(name="Juniper")
    VariantFactory(product=product, stock=4, price=Decimal("30.00"))
    VariantFactory(product=product, stock=10, price=Decimal("45.00"))
    VariantFactory(product=product, stock=100, price=Decimal("5.00"), is_active=False)
    VariantFactory(product=product, stock=7, track_inventory=False, price=Decimal("35.00"))

    response = staff_client.get(PRODUCTS)

    row = response.context["cl"].result_list[0]
    assert row.total_stock_value == 14  # tracked, active variants only
    assert row.has_low_stock is True  # 4 <= threshold 5
    admin = response.context["cl"].model_admin
    assert admin.price_range(row) == "30.00 – 45.00"
    assert ">Low</strong>" in admin.low_stock(row)


def test_search_by_sku_lists_a_product_once(staff_client):
    product = ProductFactory(name="Phone case")
    VariantFactory(product=product, sku="CASE-IP15")
    VariantFactory(product=product, sku="CASE-IP16")
    ProductFactory(name="Other", variants=1)

    response = staff_client.get(PRODUCTS + "?q=CASE-IP")

    assert [p.pk for p in response.context["cl"].result_list] == [product.pk]
    assert response.context["cl"].result_count == 1


def test_stock_filters_find_low_and_sold_out_products(staff_client):
    low = ProductFactory(name="Low", variants=1, variants__stock=2)
    sold_out = ProductFactory(name="Sold out", variants=1, variants__stock=0)
    plenty = ProductFactory(name="Plenty", variants=1, variants__stock=50)

    low_result = staff_client.get(PRODUCTS + "?stock=low").context["cl"].result_list
    out_result = staff_client.get(PRODUCTS + "?stock=out").context["cl"].result_list

    assert {p.pk for p in low_result} == {low.pk, sold_out.pk}
    assert [p.pk for p in out_result] == [sold_out.pk]
    assert plenty.pk not in {p.pk for p in low_result}


# --- Product actions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "field", "before", "after", "message"),
    [
        ("publish", "status", Status.DRAFT, Status.PUBLISHED, "2 products published."),
        ("archive", "status", Status.PUBLISHED, Status.ARCHIVED, "2 products archived."),
        ("feature", "is_featured", False, True, "2 products featured."),
        ("unfeature", "is_featured", True, False, "2 products no longer featured."),
    ],
)
def test_product_actions_change_the_selected_products(
    staff_client, action, field, before, after, message
):
    chosen = [ProductFactory(**{field: before}) for _ in range(2)]
    untouched = ProductFactory(**{field: before})

    response = staff_client.post(
        PRODUCTS, {"action": action, "_selected_action": [p.pk for p in chosen]}, follow=True
    )

    assert response.status_code == 200
    assert message in texts(response)
    for product in chosen:
        product.refresh_from_db()
        assert getattr(product, field) == after
    untouched.refresh_from_db()
    assert getattr(untouched, field) == before


def test_publish_counts_only_products_that_changed(staff_client):
    already = ProductFactory(status=Status.PUBLISHED)
    draft = ProductFactory(status=Status.DRAFT)

    response = staff_client.post(
        PRODUCTS, {"action": "publish", "_selected_action": [already.pk, draft.pk]}, follow=True
    )

    assert "1 product published." in texts(response)


# --- Creating a product with its variants -------------------------------------------------------


def test_new_product_page_shows_one_variant_row(staff_client):
    response = staff_client.get(reverse("admin:catalog_product_add"))

    variant_formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "variants"
    )
    assert variant_formset.formset.total_form_count() == 1


def test_creating_a_product_with_variants_records_initial_stock_in_the_ledger(staff_client, staff):
    category = CategoryFactory()
    data = {
        "name": "Trident maple",
        "slug": "trident-maple",
        "kind": "physical",
        "category": category.pk,
        "status": "draft",
        "description": "A sturdy tree.",
        **variant_rows(
            {
                "sku": "MAPLE-S",
                "name": "Small",
                "options": "size=S",
                "price": "30.00",
                "initial_stock": "4",
            },
            {
                "sku": "MAPLE-L",
                "name": "Large",
                "options": '{"size": "L"}',
                "price": "80.00",
                "initial_stock": "",
            },
        ),
        **EMPTY_MEDIA_INLINES,
    }

    response = staff_client.post(reverse("admin:catalog_product_add"), data)

    assert response.status_code == 302, response.context["errors"]
    product = Product.objects.get(slug="trident-maple")
    small, large = product.variants.order_by("position")
    assert (small.sku, small.options, small.stock) == ("MAPLE-S", {"size": "S"}, 4)
    assert (large.options, large.stock) == ({"size": "L"}, 0)
    assert list(
        StockMovement.objects.values_list("variant__sku", "delta", "reason", "created_by")
    ) == [("MAPLE-S", 4, Reason.RESTOCK, staff.pk)]


def test_a_product_needs_at_least_one_variant(staff_client):
    data = {
        "name": "No variants",
        "slug": "no-variants",
        "kind": "physical",
        "status": "draft",
        **variant_rows({"sku": "", "price": "", "track_inventory": None, "is_active": None}),
        **EMPTY_MEDIA_INLINES,
    }

    response = staff_client.post(reverse("admin:catalog_product_add"), data)

    assert response.status_code == 200
    assert not Product.objects.filter(slug="no-variants").exists()


def test_initial_stock_of_an_untracked_variant_is_refused(staff_client):
    data = {
        "name": "E-book",
        "slug": "e-book",
        "kind": "digital",
        "status": "draft",
        **variant_rows(
            {"sku": "EBOOK", "price": "9.00", "initial_stock": "5", "track_inventory": None}
        ),
        **EMPTY_MEDIA_INLINES,
    }

    response = staff_client.post(reverse("admin:catalog_product_add"), data)

    assert response.status_code == 200
    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()


def test_editing_a_product_never_writes_stock_of_existing_variants(staff_client):
    product = ProductFactory(name="Azalea", slug="azalea", status=Status.DRAFT)
    variant = VariantFactory(product=product, sku="AZ-1", stock=6)
    data = {
        "name": "Azalea",
        "slug": "azalea",
        "kind": "physical",
        "status": "draft",
        **variant_rows(
            {
                "id": str(variant.pk),
                "product": str(product.pk),
                "sku": "AZ-1",
                "price": "21.00",
                "initial_stock": "99",
                "stock": "99",
            },
            initial=1,
        ),
        **EMPTY_MEDIA_INLINES,
    }

    response = staff_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)

    assert response.status_code == 302, response.context["errors"]
    variant.refresh_from_db()
    assert (variant.price, variant.stock) == (Decimal("21.00"), 6)
    assert not StockMovement.objects.exists()


# --- Deleting products --------------------------------------------------------------------------


def test_delete_page_of_a_product_with_history_offers_archiving_not_a_dead_end(staff_client):
    product = ProductFactory(variants=1)
    services.stock_adjust(variant=product.variants.get(), delta=2, reason=Reason.RESTOCK)

    response = staff_client.get(reverse("admin:catalog_product_delete", args=[product.pk]))

    assert response.status_code == 200
    assert response.context["protected"] == []
    assert not response.context["perms_lacking"]
    assert "archived" in response.context["archive_note"]
    assert b'name="post" value="yes"' in response.content


def test_deleting_a_product_with_history_archives_it(staff_client):
    product = ProductFactory(variants=1, status=Status.PUBLISHED)
    services.stock_adjust(variant=product.variants.get(), delta=2, reason=Reason.RESTOCK)

    response = staff_client.post(
        reverse("admin:catalog_product_delete", args=[product.pk]), {"post": "yes"}, follow=True
    )

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.status == Status.ARCHIVED
    assert StockMovement.objects.count() == 1
    assert any("archived instead of deleted" in text for text in texts(response))


def test_deleting_a_product_without_history_deletes_it(staff_client):
    product = ProductFactory(variants=2)

    response = staff_client.post(
        reverse("admin:catalog_product_delete", args=[product.pk]), {"post": "yes"}, follow=True
    )

    assert response.status_code == 200
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not ProductVariant.objects.exists()


def test_bulk_delete_deletes_what_it_can_and_archives_the_rest(staff_client):
    with_history = ProductFactory(name="Sold pine", variants=1)
    services.stock_adjust(variant=with_history.variants.get(), delta=1, reason=Reason.RESTOCK)
    without = ProductFactory(name="Unsold pine", variants=1)
    selected = {"action": "delete_selected", "_selected_action": [with_history.pk, without.pk]}

    confirm = staff_client.post(PRODUCTS, selected)
    response = staff_client.post(PRODUCTS, {**selected, "post": "yes"}, follow=True)

    assert confirm.status_code == 200
    assert confirm.context["protected"] == []
    assert not confirm.context["perms_lacking"]
    assert b'name="post" value="yes"' in confirm.content
    assert "archived" in confirm.context["archive_note"]
    assert not Product.objects.filter(pk=without.pk).exists()
    with_history.refresh_from_db()
    assert with_history.status == Status.ARCHIVED
    assert "1 product deleted." in texts(response)
    assert any("Sold pine" in text and "archived" in text for text in texts(response))


# --- Variants and stock -------------------------------------------------------------------------


def test_variant_list_costs_the_same_queries_for_3_or_30_variants(staff_client):
    VariantFactory.create_batch(3)
    few = count_queries(staff_client, VARIANTS)
    VariantFactory.create_batch(27)
    many = count_queries(staff_client, VARIANTS)

    assert few == many == 5


def test_variant_list_edits_prices_but_not_stock(staff_client):
    variant = VariantFactory(stock=5, price=Decimal("10.00"))
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(variant.pk),
        "form-0-price": "12.50",
        "form-0-compare_at_price": "15.00",
        "form-0-low_stock_threshold": "2",
        "form-0-is_active": "on",
        "form-0-stock": "500",
        "_save": "Save",
    }

    response = staff_client.post(VARIANTS, data)

    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.price, variant.compare_at_price, variant.low_stock_threshold) == (
        Decimal("12.50"),
        Decimal("15.00"),
        2,
    )
    assert variant.stock == 5
    assert not StockMovement.objects.exists()


def adjust(client, variants, **form):
    data = {"action": "adjust_stock", "_selected_action": [v.pk for v in variants]}
    if form:
        data.update({"apply": "Apply", **form})
    return client.post(VARIANTS, data)


def test_stock_action_first_shows_its_form(staff_client):
    variants = VariantFactory.create_batch(2, stock=3)

    response = adjust(staff_client, variants)

    assert response.status_code == 200
    assert [v.pk for v in response.context["variants"]] == sorted(v.pk for v in variants)
    assert not StockMovement.objects.exists()


def test_receiving_stock_adds_to_every_selected_variant_with_ledger_rows(staff_client, staff):
    first, second = VariantFactory(stock=1), VariantFactory(stock=4)

    response = adjust(staff_client, [first, second], mode="receive", quantity="10", note="DN-88")

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.stock, second.stock) == (11, 14)
    assert set(
        StockMovement.objects.values_list("variant", "delta", "reason", "note", "created_by")
    ) == {
        (first.pk, 10, Reason.RESTOCK, "DN-88", staff.pk),
        (second.pk, 10, Reason.RESTOCK, "DN-88", staff.pk),
    }
    assert "Stock updated for 2 variants (0 variants unchanged)." in texts(
        staff_client.get(VARIANTS)
    )


def test_a_stock_count_sets_the_stock_with_corrections(staff_client):
    counted, unchanged = VariantFactory(stock=9), VariantFactory(stock=3)

    response = adjust(staff_client, [counted, unchanged], mode="count", quantity="3")

    assert response.status_code == 302
    counted.refresh_from_db()
    assert counted.stock == 3
    assert list(StockMovement.objects.values_list("variant", "delta", "reason")) == [
        (counted.pk, -6, Reason.CORRECTION)
    ]


def test_a_return_adds_stock_as_a_return(staff_client):
    variant = VariantFactory(stock=0)

    adjust(staff_client, [variant], mode="return", quantity="1")

    variant.refresh_from_db()
    assert variant.stock == 1
    assert StockMovement.objects.get().reason == Reason.RETURN


def test_a_refused_variant_leaves_every_selected_variant_untouched(staff_client):
    tracked = VariantFactory(stock=2, sku="TREE-1")
    untracked = VariantFactory(stock=0, sku="EBOOK-1", track_inventory=False)

    response = adjust(staff_client, [tracked, untracked], mode="receive", quantity="5")

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert any("Nothing was changed" in e and "EBOOK-1" in e for e in errors)
    tracked.refresh_from_db()
    assert tracked.stock == 2
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    ("mode", "quantity"), [("count", "-1"), ("receive", "0"), ("receive", "many")]
)
def test_bad_stock_quantities_are_refused_on_the_form(staff_client, mode, quantity):
    variant = VariantFactory(stock=2)

    response = adjust(staff_client, [variant], mode=mode, quantity=quantity)

    assert response.status_code == 200
    assert "quantity" in response.context["form"].errors
    variant.refresh_from_db()
    assert variant.stock == 2
    assert not StockMovement.objects.exists()


def test_variant_page_shows_its_latest_ledger_rows_and_links_to_all(staff_client):
    variant = VariantFactory(stock=0)
    for n in range(25):
        services.stock_adjust(variant=variant, delta=1, reason=Reason.RESTOCK, note=f"box {n}")

    response = staff_client.get(reverse("admin:catalog_productvariant_change", args=[variant.pk]))

    ledger = next(f for f in response.context["inline_admin_formsets"])
    notes = [form.instance.note for form in ledger.formset.forms]
    assert len(notes) == 20
    assert notes[0] == "box 24"  # newest first
    assert f"?variant__id__exact={variant.pk}".encode() in response.content
    full = staff_client.get(LEDGER + f"?variant__id__exact={variant.pk}")
    assert full.context["cl"].result_count == 25


def test_the_ledger_cannot_be_written_from_the_admin(staff_client):
    movement = services.stock_adjust(variant=VariantFactory(), delta=1, reason=Reason.RESTOCK)
    change_url = reverse("admin:catalog_stockmovement_change", args=[movement.pk])

    assert staff_client.get(reverse("admin:catalog_stockmovement_add")).status_code == 403
    assert staff_client.post(change_url, {"delta": "50"}).status_code == 403
    delete_url = reverse("admin:catalog_stockmovement_delete", args=[movement.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    movement.refresh_from_db()
    assert movement.delta == 1


def test_ledger_list_searches_by_sku_and_reference(staff_client):
    first = VariantFactory(sku="FIND-ME")
    services.stock_adjust(variant=first, delta=1, reason=Reason.RESTOCK)
    services.stock_adjust(
        variant=VariantFactory(), delta=2, reason=Reason.RESTOCK, reference="PO-123"
    )

    by_sku = staff_client.get(LEDGER + "?q=FIND-ME").context["cl"].result_list
    by_reference = staff_client.get(LEDGER + "?q=PO-123").context["cl"].result_list

    assert [m.variant.sku for m in by_sku] == ["FIND-ME"]
    assert [m.reference for m in by_reference] == ["PO-123"]


# --- Categories and tags ------------------------------------------------------------------------


def test_category_list_shows_the_tree_and_edits_positions(staff_client):
    root = CategoryFactory(name="Trees", position=0)
    child = CategoryFactory(name="Conifers", parent=root, position=1)
    grandchild = CategoryFactory(name="Pines", parent=child, position=2)

    response = staff_client.get(reverse("admin:catalog_category_changelist"))
    admin = response.context["cl"].model_admin
    rows = {c.pk: c for c in response.context["cl"].result_list}

    assert admin.tree_name(rows[root.pk]) == "Trees"
    assert admin.tree_name(rows[grandchild.pk]) == "— — Pines"

    data = {
        "form-TOTAL_FORMS": "3",
        "form-INITIAL_FORMS": "3",
        "_save": "Save",
    }
    for i, category in enumerate([root, child, grandchild]):
        data[f"form-{i}-id"] = str(category.pk)
        data[f"form-{i}-position"] = str(10 - i)
    assert staff_client.post(reverse("admin:catalog_category_changelist"), data).status_code == 302
    assert Category.objects.get(pk=grandchild.pk).position == 8


def test_tag_search_serves_the_product_form_autocomplete(staff_client):
    TagFactory(name="evergreen")
    TagFactory(name="deciduous")

    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"term": "ever", "app_label": "catalog", "model_name": "product", "field_name": "tags"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["evergreen"]
