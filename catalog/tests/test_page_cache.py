"""The catalogue's page cache: shoppers share cached pages, personal parts stay personal, and every
change a shopper could see shows on the next request.

Tests of staff edits run in real transactions (`transaction=True`): the cache is made stale when
a write commits, which a test wrapped in one transaction would never do.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
import tablib
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog import invalidation, page_cache, services
from catalog.models import Product, ProductVariant, StockMovement
from catalog.resources import VariantResource
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from catalog.tests.test_admin import EMPTY_MEDIA_INLINES, variant_rows

pytestmark = pytest.mark.django_db

Status = Product.Status
PRODUCTS_API = reverse("api:product-list")


def product_api(product: Product) -> str:
    return reverse("api:product-detail", args=[product.pk])


@pytest.fixture
def bonsai() -> Product:
    category = CategoryFactory(name="Bonsai", slug="bonsai")
    return ProductFactory(
        name="Shimpaku juniper",
        slug="shimpaku",
        category=category,
        variants=1,
        variants__price=Decimal("45.00"),
        variants__stock=10,
    )


def pages(product: Product) -> list[str]:
    """Every cached read that shows the product."""
    return [
        reverse("catalog:products"),
        reverse("catalog:category", args=[product.category.slug]),
        reverse("catalog:search") + "?q=juniper",
        reverse("catalog:product", args=[product.slug]),
        PRODUCTS_API + "?page_size=24",
        product_api(product),
    ]


def without_csrf_tokens(content: bytes) -> str:
    """The page with its (per request) CSRF tokens blanked and blank lines dropped."""
    text = content.decode()
    text = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1TOKEN", text)
    text = re.sub(r'("X-CSRFToken": ")[^"]+', r"\1TOKEN", text)
    return re.sub(r"\n\s*\n", "\n", text)


def test_a_second_shopper_gets_the_page_without_a_query(client, bonsai, django_assert_num_queries):
    for url in pages(bonsai):
        first = client.get(url)
        with django_assert_num_queries(0):
            again = Client().get(url)
        assert again.status_code == first.status_code == 200, url
        assert without_csrf_tokens(again.content) == without_csrf_tokens(first.content), url
        assert "Shimpaku juniper" in again.content.decode(), url
        assert "{#" not in again.content.decode(), url  # template comments stay in templates


def test_the_cached_answer_is_the_answer_without_cache(client, bonsai, settings):
    # A second client, with a cart, sees its own count in the header of the shared page.
    with_cart = Client()
    added = with_cart.post(
        reverse("orders:cart-add"), {"variant": bonsai.variants.get().pk, "quantity": 1}
    )
    assert added.status_code == 302
    with_cart.get(reverse("orders:cart"))  # shows (and so clears) the "Added" message
    visitors = (client, with_cart)
    cached = [
        without_csrf_tokens(visitor.get(url).content)
        for url in pages(bonsai)
        for visitor in visitors
        for _ in range(2)
    ]
    settings.PAGE_CACHE_SECONDS = 0

    fresh = [
        without_csrf_tokens(visitor.get(url).content)
        for url in pages(bonsai)
        for visitor in visitors
    ]

    assert cached[::2] == cached[1::2] == fresh
    assert 'class="cart-count">1<' in fresh[1]
    assert 'class="cart-count" hidden>0<' in fresh[0]


def test_with_the_cache_off_every_request_reads_the_database(
    client, bonsai, settings, django_assert_max_num_queries
):
    settings.PAGE_CACHE_SECONDS = 0
    url = reverse("catalog:product", args=[bonsai.slug])
    client.get(url)

    with django_assert_max_num_queries(6) as captured:
        client.get(url)

    assert len(captured) > 0


@pytest.mark.django_db(transaction=True)
def test_staff_edits_show_at_once(staff_client):
    shopper = Client()  # `client` itself is the one staff_client signed in
    category = CategoryFactory(name="Bonsai", slug="bonsai")
    product = ProductFactory(name="Shimpaku juniper", slug="shimpaku", category=category)
    variant = VariantFactory(product=product, price=Decimal("45.00"), stock=10)
    for url in pages(product):
        assert "45.00" in shopper.get(url).content.decode(), url

    # A new price in the admin's variant list.
    response = staff_client.post(
        reverse("admin:catalog_productvariant_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(variant.pk),
            "form-0-price": "39.50",
            "form-0-low_stock_threshold": "3",
            "form-0-is_active": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    for url in pages(product):
        text = shopper.get(url).content.decode()
        assert "39.50" in text, url
        assert "45.00" not in text, url

    # Stock counted down to 2 with the admin's stock action: the pages say so.
    response = staff_client.post(
        reverse("admin:catalog_productvariant_changelist"),
        {
            "action": "adjust_stock",
            "_selected_action": [variant.pk],
            "apply": "Apply",
            "mode": "count",
            "quantity": "2",
        },
    )
    assert response.status_code == 302
    assert StockMovement.objects.get().quantity_after == 2
    product_page = reverse("catalog:product", args=[product.slug])
    assert "Only 2 left" in shopper.get(product_page).content.decode()
    assert shopper.get(product_api(product)).json()["variants"][0]["stock_state"] == "low"

    # Unpublished with the admin's action: gone from every shopper's page at once.
    response = staff_client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "archive", "_selected_action": [product.pk]},
    )
    assert response.status_code == 302
    assert shopper.get(product_page).status_code == 404
    assert shopper.get(product_api(product)).status_code == 404
    assert "Shimpaku juniper" not in shopper.get(reverse("catalog:products")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_order_changes_the_stock_shoppers_read():
    variant = VariantFactory(product=ProductFactory(slug="azalea"), stock=50)
    url = reverse("catalog:product", args=["azalea"])
    assert "In stock" in Client().get(url).content.decode()

    services.stock_reserve(lines=[services.StockLine(variant.pk, 48)], reference="A-1")

    assert "Only 2 left" in Client().get(url).content.decode()


def test_each_visitor_gets_their_own_header_and_csrf_token(client, bonsai, password):
    url = reverse("catalog:product", args=[bonsai.slug])
    anonymous = client.get(url).content.decode()
    member = Client(enforce_csrf_checks=True)
    member.force_login(UserFactory(raw_password=password))

    page = member.get(url).content.decode()

    # The header's links, by address: the product's (random) description may hold any word.
    log_in, account = (f'href="{reverse(name)}"' for name in ("accounts:login", "accounts:profile"))
    assert log_in in anonymous
    assert account not in anonymous
    assert account in page
    assert log_in not in page
    assert page_cache.CSRF_MARKER not in page
    assert "<!--hole:" not in page
    # The add-to-cart form's token (the last on the page) works.
    form_token = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[-1]
    variant = bonsai.variants.get()
    for _ in range(2):
        added = member.post(
            reverse("orders:cart-add"),
            {"variant": variant.pk, "quantity": 1, "csrfmiddlewaretoken": form_token},
        )
        assert added.status_code == 302
    # The next page, cached or not, shows the member's cart count and the message.
    page = member.get(url).content.decode()
    assert re.search(r'id="cart-count" class="cart-count">2<', page)
    assert "Added Shimpaku juniper" in page
    assert "Added Shimpaku juniper" not in client.get(url).content.decode()


def test_staff_are_never_served_nor_stored(staff_client, bonsai):
    draft = ProductFactory(name="Secret draft", slug="secret", status=Status.DRAFT, variants=1)
    page, api = reverse("catalog:product", args=["secret"]), product_api(draft)
    assert Client().get(page).status_code == Client().get(api).status_code == 404
    listing = Client().get(PRODUCTS_API).content.decode()
    assert "Shimpaku juniper" in listing
    assert "Secret draft" not in listing

    assert "Secret draft" in staff_client.get(page).content.decode()
    assert staff_client.get(api).json()["name"] == "Secret draft"
    assert "Secret draft" in staff_client.get(PRODUCTS_API).content.decode()

    assert Client().get(page).status_code == Client().get(api).status_code == 404
    assert "Secret draft" not in Client().get(PRODUCTS_API).content.decode()


def test_refused_filters_are_answered_but_not_stored(client, bonsai, django_assert_max_num_queries):
    url = reverse("catalog:products") + "?min_price=cheap"
    assert client.get(url).status_code == 400

    with django_assert_max_num_queries(6) as captured:
        again = client.get(url)

    assert again.status_code == 400
    assert len(captured) > 0  # answered again, not from the cache


def test_a_missing_product_is_the_usual_404_page(client, bonsai):
    response = client.get(reverse("catalog:product", args=["no-such-tree"]))

    assert response.status_code == 404
    text = response.content.decode()
    assert "<!--hole:" not in text
    assert page_cache.CSRF_MARKER not in text
    assert "Log in" in text


# --- What a change makes stale (catalog.invalidation) -------------------------------------------


@dataclass
class Shop:
    juniper: Product  # in Bonsai > Junipers, one variant, well stocked
    shears: Product  # in Tools


@pytest.fixture
def shop() -> Shop:
    bonsai = CategoryFactory(name="Bonsai", slug="bonsai")
    junipers = CategoryFactory(name="Junipers", slug="junipers", parent=bonsai)
    tools = CategoryFactory(name="Tools", slug="tools")
    juniper = ProductFactory(
        name="Shimpaku juniper",
        slug="shimpaku",
        category=junipers,
        variants=1,
        variants__price=Decimal("45.00"),
        variants__stock=50,
    )
    shears = ProductFactory(
        name="Pruning shears", slug="shears", category=tools, variants=1, variants__stock=50
    )
    return Shop(juniper, shears)


def reads_showing(product: Product) -> list[str]:
    """Every cached read that shows `product`: its page and API details, the lists of its
    category and the categories above it, and the lists of any product."""
    category = product.category
    return [
        reverse("catalog:product", args=[product.slug]),
        product_api(product),
        reverse("api:product-by-slug", args=[product.slug]),
        reverse("catalog:category", args=[category.slug]),
        reverse("catalog:category", args=[category.parent.slug]),
        PRODUCTS_API + f"?category={category.parent.slug}",
        reverse("catalog:products"),
        reverse("catalog:search") + "?q=" + product.name.split()[-1],
        PRODUCTS_API + "?page_size=24",
    ]


def reads_of_the_other_category(shop: Shop) -> list[str]:
    return [
        reverse("catalog:product", args=[shop.shears.slug]),
        product_api(shop.shears),
        reverse("catalog:category", args=["tools"]),
        PRODUCTS_API + "?category=tools",
    ]


def read(url: str):
    response = Client().get(url)
    assert response.status_code == 200, url
    return response


def warm(*urls: str) -> None:
    for url in urls:
        assert read(url)["X-Cache"] in ("hit", "miss")
        assert read(url)["X-Cache"] == "hit", url


def assert_served_from_cache(urls: list[str]) -> None:
    for url in urls:
        assert read(url)["X-Cache"] == "hit", url


@pytest.mark.django_db(transaction=True)
def test_an_order_that_leaves_what_shoppers_read_as_it_was_invalidates_nothing(
    shop, django_assert_num_queries
):
    urls = [*reads_showing(shop.juniper), *reads_of_the_other_category(shop)]
    warm(*urls)
    variant = shop.juniper.variants.get()

    services.stock_reserve(lines=[services.StockLine(variant.pk, 3)], reference="A-1")

    variant.refresh_from_db()
    assert variant.stock == 47  # in stock before and after
    for url in urls:
        with django_assert_num_queries(0):
            response = read(url)
        assert response["X-Cache"] == "hit", url


@pytest.mark.django_db(transaction=True)
def test_an_order_that_sells_a_variant_out_shows_at_once_and_nothing_else_goes_stale(shop):
    warm(*reads_showing(shop.juniper), *reads_of_the_other_category(shop))
    variant = shop.juniper.variants.get()

    services.stock_reserve(lines=[services.StockLine(variant.pk, 50)], reference="A-2")

    for url in reads_showing(shop.juniper):
        response = read(url)
        assert response["X-Cache"] == "miss", url
        if url.startswith("/api/"):
            data = response.json()
            product = next(p for p in data.get("results", [data]) if p["id"] == shop.juniper.pk)
            assert product["stock_state"] == "sold_out", url
            assert product["in_stock"] is False, url
        else:
            assert "Sold out" in response.content.decode(), url
    assert_served_from_cache(reads_of_the_other_category(shop))


@pytest.mark.django_db(transaction=True)
def test_the_count_of_a_low_stock_variant_shows_as_it_falls(shop):
    variant = shop.juniper.variants.get()
    services.stock_set(variant=variant, quantity=3)
    page = reverse("catalog:product", args=[shop.juniper.slug])
    assert "Only 3 left" in read(page).content.decode()

    services.stock_reserve(lines=[services.StockLine(variant.pk, 1)], reference="A-3")

    assert "Only 2 left" in read(page).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_price_edit_in_the_admin_shows_at_once_and_nothing_else_goes_stale(shop, staff_client):
    warm(*reads_showing(shop.juniper), *reads_of_the_other_category(shop))
    variant = shop.juniper.variants.get()

    response = staff_client.post(
        reverse("admin:catalog_product_change", args=[shop.juniper.pk]),
        admin_product_form(shop.juniper, price="39.50"),
    )

    assert response.status_code == 302, response.context["errors"]
    variant.refresh_from_db()
    assert variant.price == Decimal("39.50")
    for url in reads_showing(shop.juniper):
        text = read(url).content.decode()
        assert "39.50" in text, url
        assert "45.00" not in text, url
    assert_served_from_cache(reads_of_the_other_category(shop))


def admin_product_form(product: Product, *, price: str) -> dict:
    """The admin's change form of `product`, its one variant's price changed."""
    variant = product.variants.get()
    return {
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "kind": product.kind,
        "category": str(product.category_id),
        "status": product.status,
        **variant_rows(
            {"id": str(variant.pk), "product": str(product.pk), "sku": variant.sku, "price": price},
            initial=1,
        ),
        **EMPTY_MEDIA_INLINES,
    }


@pytest.mark.django_db(transaction=True)
def test_a_csv_import_shows_at_once_and_nothing_else_goes_stale(shop):
    warm(*reads_showing(shop.juniper), *reads_of_the_other_category(shop))
    rows = tablib.Dataset().load(VariantResource().export().csv, format="csv")
    juniper_sku = shop.juniper.variants.get().sku
    edited = tablib.Dataset(headers=rows.headers)
    for row in rows.dict:
        if row["sku"] == juniper_sku:
            edited.append([{**row, "price": "41.00"}[h] for h in rows.headers])

    result = VariantResource().import_data(edited)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert ProductVariant.objects.get(sku=juniper_sku).price == Decimal("41.00")
    for url in reads_showing(shop.juniper):
        assert "41.00" in read(url).content.decode(), url
    assert_served_from_cache(reads_of_the_other_category(shop))


@pytest.mark.django_db(transaction=True)
def test_an_archived_product_leaves_every_read_at_once_and_nothing_else_goes_stale(
    shop, staff_client
):
    lists = reads_showing(shop.juniper)[3:]
    warm(*reads_showing(shop.juniper), *reads_of_the_other_category(shop))

    response = staff_client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "archive", "_selected_action": [shop.juniper.pk]},
    )

    assert response.status_code == 302
    for url in reads_showing(shop.juniper)[:3]:
        assert Client().get(url).status_code == 404, url
    for url in lists:
        assert "Shimpaku juniper" not in read(url).content.decode(), url
    assert_served_from_cache(reads_of_the_other_category(shop))


@pytest.mark.django_db(transaction=True)
def test_a_product_moved_to_another_category_and_slug_leaves_the_old_ones(shop, staff_client):
    old = reads_showing(shop.juniper)
    warm(*old, *reads_of_the_other_category(shop))

    services.product_update(
        product=shop.juniper, data={"slug": "itoigawa", "category": shop.shears.category}
    )

    assert Client().get(old[0]).status_code == 404
    assert Client().get(old[2]).status_code == 404
    assert (
        "Shimpaku juniper" in read(reverse("catalog:product", args=["itoigawa"])).content.decode()
    )
    for url in old[3:6]:  # the old category's lists
        assert "Shimpaku juniper" not in read(url).content.decode(), url
    tools = reverse("catalog:category", args=["tools"])
    assert "Shimpaku juniper" in read(tools).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_renamed_category_shows_on_every_read(shop, staff_client):
    warm(*reads_showing(shop.juniper), *reads_of_the_other_category(shop))

    shop.shears.category.name = "Garden tools"
    shop.shears.category.save()

    for url in [*reads_showing(shop.juniper), *reads_of_the_other_category(shop)]:
        assert read(url)["X-Cache"] == "miss", url
    assert "Garden tools" in read(reverse("catalog:products")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_write_that_rolls_back_invalidates_nothing(shop):
    warm(*reads_showing(shop.juniper))
    variant = shop.juniper.variants.get()

    def failed_order() -> None:
        with transaction.atomic():
            services.stock_reserve(lines=[services.StockLine(variant.pk, 50)], reference="A-4")
            raise RuntimeError("the order failed")

    with pytest.raises(RuntimeError):
        failed_order()

    assert_served_from_cache(reads_showing(shop.juniper))


def test_a_lost_version_is_made_anew_so_no_entry_outlives_it(shop):
    page = reverse("catalog:product", args=[shop.juniper.slug])
    warm(page)

    cache.delete(f"scope:product-slug:{shop.juniper.slug}")  # evicted, or the cache restarted

    assert read(page)["X-Cache"] == "miss"
    assert read(page)["X-Cache"] == "hit"


@pytest.mark.django_db(transaction=True)
def test_many_changes_at_once_make_everything_stale_once_at_no_cost_a_row(
    shop, django_assert_num_queries
):
    warm(*reads_of_the_other_category(shop))

    with transaction.atomic(), invalidation.many_changes():
        with django_assert_num_queries(1):  # the update alone: no reading of what it changed
            shop.juniper.save(update_fields=["name"])
        shop.juniper.variants.update(price=Decimal("1.00"))

    for url in reads_of_the_other_category(shop):
        assert read(url)["X-Cache"] == "miss", url
    assert "1.00" in read(reverse("catalog:product", args=[shop.juniper.slug])).content.decode()
