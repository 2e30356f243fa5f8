"""The card each product carries for lists (`catalog.cards`) follows every change shoppers see,
and no other: what it shows is what the product page shows."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import cards, invalidation, selectors, services
from catalog.models import Product, ProductModel3D, StockMovement, Tag
from catalog.tests.factories import ProductFactory, ProductImageFactory, VariantFactory

pytestmark = pytest.mark.django_db


def card(product: Product) -> dict:
    return Product.objects.get(pk=product.pk).card


def shown_on_list(product: Product) -> dict:
    """What a list shows of `product`, beside what its product page shows."""
    (listed,) = selectors.product_cards(selectors.card_rows(Product.objects.filter(pk=product.pk)))
    page = selectors.product_get(pk=product.pk)
    names = ("cheapest", "price_max", "price_varies", "in_stock", "stock_state")
    on_list = {name: getattr(listed, name) for name in names}
    on_page = {name: getattr(page, name) for name in names}
    cheapest = page.cheapest
    on_page["cheapest"] = cheapest and cards.CardPrice(
        cheapest.price,
        cheapest.compare_at_price if cheapest.is_on_sale else None,
        cheapest.currency,
    )
    on_list["picture"], on_page["picture"] = (
        listed.picture and listed.picture.name,
        page.picture and page.picture.image.name,
    )
    on_list["tags"], on_page["tags"] = listed.tag_list, page.tag_list
    assert on_list == on_page
    return on_list


def test_a_product_without_variants_shows_nothing_to_buy():
    product = ProductFactory()

    shown = shown_on_list(product)

    assert shown["cheapest"] is None
    assert shown["stock_state"].code == "sold_out"
    assert shown["picture"] is None


def test_the_card_follows_variants_pictures_tags_and_3d_models():
    product = ProductFactory(tags=["pine"])
    small = VariantFactory(product=product, price=Decimal("40.00"), stock=3)
    VariantFactory(product=product, price=Decimal("90.00"), stock=0)
    assert shown_on_list(product)["stock_state"].label == "Few left"

    small.price, small.compare_at_price = Decimal("30.00"), Decimal("45.00")
    small.save()
    picture = ProductImageFactory(product=product, alt_text="A pine")
    product.tags.add(Tag.objects.create(name="gift", slug="gift"))
    ProductModel3D.objects.create(product=product, file=SimpleUploadedFile("p.glb", b"glTF"))

    shown = shown_on_list(product)
    assert shown["cheapest"] == cards.CardPrice(Decimal("30.00"), Decimal("45.00"), "EUR")
    assert shown["price_max"] == Decimal("90.00")
    assert shown["picture"] == picture.image.name
    assert [tag.slug for tag in shown["tags"]] == ["gift", "pine"]
    assert cards.has_model_3d(card(product))

    picture.delete()
    small.delete()
    assert shown_on_list(product)["stock_state"].code == "sold_out"
    assert shown_on_list(product)["picture"] is None


def test_a_renamed_tag_is_renamed_on_the_cards_of_its_products():
    product = ProductFactory(variants=1, tags=["pine"])
    tag = Tag.objects.get(slug="pine")

    tag.name, tag.slug = "Pines", "pines"
    tag.save()

    assert card(product)["tags"] == [["Pines", "pines"]]


@pytest.mark.django_db(transaction=True)
def test_a_deleted_tag_leaves_the_cards_of_its_products():
    product = ProductFactory(variants=1, tags=["pine", "gift"])

    Tag.objects.get(slug="pine").delete()

    assert card(product)["tags"] == [["gift", "gift"]]


@pytest.mark.django_db(transaction=True)
def test_stock_moves_change_a_card_only_when_shoppers_would_see_it():
    variant = VariantFactory(stock=50, low_stock_threshold=5)
    product = variant.product
    before = card(product)

    with CaptureQueriesContext(connection) as queries:
        services.stock_adjust(variant=variant, delta=-40, reason=StockMovement.Reason.CORRECTION)
    assert card(product) == before  # 10 left: still "in stock"
    assert not [q for q in queries if 'UPDATE "catalog_product"' in q["sql"]]

    services.stock_adjust(variant=variant, delta=-7, reason=StockMovement.Reason.CORRECTION)
    assert card(product)["stock"] == ["low", 3]

    services.stock_adjust(variant=variant, delta=-3, reason=StockMovement.Reason.CORRECTION)
    assert card(product)["stock"] == ["sold_out", None]
    assert card(product)["in_stock"] is False


def test_many_changes_work_out_every_card_once_at_the_end():
    with invalidation.many_changes():
        product = ProductFactory(variants=2, variants__price=Decimal("12.00"))
        assert card(product) == {}  # not yet: no work per row

    assert card(product)["price"] == "12.00"


def test_refresh_cards_works_every_card_out_again():
    product = ProductFactory(variants=1, variants__price=Decimal("8.00"))
    Product.objects.update(card={})  # as if the rules had changed since

    call_command("refresh_cards", stdout=StringIO())

    assert card(product)["price"] == "8.00"
