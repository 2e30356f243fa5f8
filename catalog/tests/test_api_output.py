"""The product outputs: one definition for a list's light cards and for product pages (and for
the OpenAPI schema), field by field."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from catalog import selectors
from catalog.api import serializers as s
from catalog.models import Product, ProductModel3D
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


def _catalogue() -> list[Product]:
    """Products that between them take every branch of the outputs."""
    parent = CategoryFactory(name="Bonsai")
    on_sale = ProductFactory(
        name="Juniper", category=CategoryFactory(parent=parent), tags=["pine", "gift"]
    )
    VariantFactory(
        product=on_sale,
        price=Decimal("40.00"),
        compare_at_price=Decimal("55.50"),
        cost_price=Decimal("12.25"),
        stock=2,
        options={"size": "small", "pot": None},
    )
    VariantFactory(product=on_sale, price=Decimal("90.00"), stock=0, weight_grams=1200)
    VariantFactory(product=on_sale, price=Decimal("10.00"), is_active=False)
    ProductImageFactory(product=on_sale, alt_text="")
    ProductImageFactory(product=on_sale, variant=on_sale.variants.first())
    ProductModel3D.objects.create(product=on_sale, file=SimpleUploadedFile("j.glb", b"glTF"))

    untracked = ProductFactory(name="E-book", category=None, kind=Product.Kind.DIGITAL)
    VariantFactory(product=untracked, price=Decimal("9.99"), stock=0, track_inventory=False)
    ProductModel3D.objects.create(
        product=untracked,
        file=SimpleUploadedFile("b.glb", b"glTF"),
        poster=SimpleUploadedFile("b.png", b"png"),
    )

    nothing_on_sale = ProductFactory(name="Empty shelf", is_featured=True)
    VariantFactory(product=nothing_on_sale, is_active=False)
    return [on_sale, untracked, nothing_on_sale]


def _output(serializer_class, instance, *, staff: bool = False) -> dict:
    request = RequestFactory().get("/api/v1/products")
    return serializer_class(instance, context={"request": request, "staff": staff}).data


def test_a_card_reads_as_its_product_page_does():
    products = _catalogue()
    rows = selectors.card_rows(Product.objects.filter(pk__in=[p.pk for p in products]))

    cards = selectors.product_cards(rows)

    assert sorted(card.id for card in cards) == sorted(p.pk for p in products)
    for card in cards:
        listed = _output(s.ProductListOutput, card)
        detail = _output(s.ProductDetailOutput, selectors.product_get(pk=card.id))
        assert list(listed) == list(s.ProductListOutput().fields)
        assert listed == {name: detail[name] for name in listed}


def test_list_output_of_a_product_on_sale_with_one_variant_left():
    juniper = _catalogue()[0]
    (card,) = selectors.product_cards(selectors.card_rows(Product.objects.filter(pk=juniper.pk)))

    data = _output(s.ProductListOutput, card)

    thumbnail = data.pop("thumbnail")
    assert thumbnail.startswith("http://testserver/media/CACHE/images/products/")
    assert thumbnail.endswith(".webp")
    assert data == {
        "id": juniper.pk,
        "name": "Juniper",
        "slug": juniper.slug,
        "kind": "physical",
        "category": {
            "id": juniper.category_id,
            "name": juniper.category.name,
            "slug": juniper.category.slug,
        },
        "tags": ["gift", "pine"],
        "is_featured": False,
        "price": "40.00",
        "price_max": "90.00",
        "compare_at_price": "55.50",
        "currency": "EUR",
        "in_stock": True,
        "stock_state": "low",  # the one variant that can be bought is running low
        "url": f"http://testserver/products/{juniper.slug}/",
    }


@pytest.mark.parametrize("staff", [False, True])
def test_detail_output_shows_staff_what_only_staff_see(staff):
    juniper = _catalogue()[0]

    data = _output(
        s.ProductDetailOutput, selectors.product_get(pk=juniper.pk, staff=staff), staff=staff
    )

    variants = data["variants"]
    assert [v["price"] for v in variants] == (
        ["40.00", "90.00", "10.00"] if staff else ["40.00", "90.00"]
    )
    assert variants[0]["options"] == {"size": "small", "pot": None}
    assert variants[0]["stock_state"] == "low"
    assert variants[1]["stock_state"] == "sold_out"
    assert variants[0]["stock"] == (2 if staff else None)
    assert variants[0]["cost_price"] == ("12.25" if staff else None)
    assert [image["alt_text"] for image in data["images"]] == ["", "Photo of Juniper"]
    assert data["images"][1]["variant_id"] == variants[0]["id"]
    assert data["model_3d"]["file"].endswith(".glb")
    assert data["model_3d"]["poster"] is None


def test_a_product_without_pictures_or_variants_on_sale():
    empty = _catalogue()[2]

    data = _output(s.ProductDetailOutput, selectors.product_get(pk=empty.pk))

    assert data["thumbnail"] is None
    assert data["price"] is data["price_max"] is data["compare_at_price"] is None
    assert data["currency"] == "EUR"
    assert data["in_stock"] is False
    assert data["stock_state"] == "sold_out"
    assert data["variants"] == []
    assert data["model_3d"] is None


@pytest.mark.parametrize(
    "location",
    [
        "/products/juniper/",
        "/media/CACHE/images/products/a%20b/0f1e.webp",
        "/media/photos/pine tree.jpg",  # would be quoted
        "/media/../secret",
        "/a/./b",
        "//cdn.example.com/products/a.webp",
        "https://cdn.example.com/products/a.webp",
        "relative/path",
        "/products/äpfel/",
    ],
)
def test_absolute_urls_are_what_django_builds(location):
    request = RequestFactory().get("/api/v1/products", secure=True)

    assert s.absolute_urls(request)(location) == request.build_absolute_uri(location)
