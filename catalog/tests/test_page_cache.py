"""The catalogue's page cache: shoppers share cached pages, personal parts stay personal, and every
change a shopper could see shows on the next request.

Tests of staff edits run in real transactions (`transaction=True`): the cache is made stale when
a write commits, which a test wrapped in one transaction would never do.
"""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog import page_cache, services
from catalog.models import Product, StockMovement
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

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


@pytest.mark.django_db(transaction=True)
def test_one_transaction_makes_the_cache_stale_once():
    CategoryFactory(slug="tools")
    before = page_cache.generation()

    services.product_create(
        data={"name": "Pruning shears", "kind": "physical", "status": Status.PUBLISHED},
        variants=[{"sku": f"SH-{n}", "price": Decimal("20.00"), "stock": 4} for n in range(3)],
        tags=["steel", "japan"],
    )

    assert page_cache.generation() == before + 1


def test_a_lost_generation_never_goes_back():
    before = page_cache.generation()
    cache.delete(page_cache.GENERATION_KEY)

    assert page_cache.generation() > before


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
