"""The API writes product cards and product pages out by hand (for speed); the serializers stay
the documented shape. These tests hold both to the same output, field by field."""

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


@pytest.mark.parametrize("staff", [False, True])
def test_product_detail_data_is_what_the_serializer_gives(staff):
    request = RequestFactory().get("/api/v1/products/1")

    for product in _catalogue():
        loaded = selectors.product_get(pk=product.pk, staff=staff)
        expected = s.ProductDetailOutput(loaded, context={"request": request, "staff": staff}).data

        assert s.product_detail_data(loaded, request, staff=staff) == expected


def test_product_card_data_is_what_the_list_serializer_gives():
    request = RequestFactory().get("/api/v1/products")
    products = _catalogue()
    rows = selectors.card_rows(Product.objects.filter(pk__in=[p.pk for p in products]))

    cards = selectors.product_cards(rows, tags=True)

    assert len(cards) == len(products)
    for card in cards:
        loaded = selectors.product_get(pk=card.id)
        expected = s.ProductListOutput(loaded, context={"request": request}).data
        data = s.product_card_data(card, s.absolute_urls(request))
        assert data == expected
        assert list(data) == list(s.ProductListOutput().fields)


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
