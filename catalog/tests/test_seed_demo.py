from io import StringIO

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from accounts.models import User
from catalog import demo
from catalog.models import Category, Product, ProductImage, ProductVariant, StockMovement, Tag

pytestmark = pytest.mark.django_db

# Few distinct pictures keep the suite fast; they are stored once per test session.
PICTURES = "4"


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--pictures", PICTURES, *args, stdout=out)
    return out.getvalue()


def catalogue() -> list[tuple]:
    return list(
        ProductVariant.objects.order_by("sku").values_list(
            "sku", "product__name", "product__status", "price", "compare_at_price", "stock"
        )
    )


@pytest.fixture
def seeded() -> str:
    return seed()


def test_default_run_builds_the_category_tree_and_products_of_every_kind(seeded):
    tree = {
        c.name: sorted(c.children.values_list("name", flat=True))
        for c in Category.objects.filter(parent=None)
    }
    assert tree == {
        "Bonsai trees": ["Ficus", "Junipers", "Maples"],
        "Tools": ["Shears", "Soil & pots", "Wire"],
        "Phone cases": ["Galaxy cases", "Pixel cases", "iPhone cases"],
        "Digital downloads": ["Guides", "Wallpapers"],
    }
    assert "40 products" in seeded
    assert Product.objects.count() == 40
    leaves = Category.objects.filter(parent__isnull=False).annotate(n=Count("products"))
    assert all(leaf.n > 0 for leaf in leaves), "every sub-category has products"
    assert Product.objects.filter(kind=Product.Kind.DIGITAL).count() == 8
    assert Product.objects.filter(status=Product.Status.DRAFT).exists()
    assert Product.objects.filter(is_featured=True, status=Product.Status.PUBLISHED).count() >= 4
    assert Product.objects.exclude(seo_title="").exclude(seo_description="").exists()
    assert ProductVariant.objects.filter(compare_at_price__isnull=False).exists()
    assert Tag.objects.filter(name="juniper").get().products.count() >= 4


def test_bonsai_trees_are_single_and_scarce(seeded):
    trees = Product.objects.filter(category__parent__slug="bonsai-trees").annotate(
        n=Count("variants"), stock=Sum("variants__stock")
    )
    assert trees.count() == 13
    assert {tree.n for tree in trees} == {1}
    assert max(tree.stock for tree in trees) <= 12
    assert any(tree.stock == 0 for tree in trees), "some trees are sold out"


def test_phone_cases_have_one_variant_per_phone_model(seeded):
    cases = Product.objects.filter(category__parent__slug="phone-cases").select_related("category")
    assert cases.count() == 7
    for case in cases:
        brand = next(
            b for b, (slug, _, _) in demo.PHONE_MODELS.items() if slug == case.category.slug
        )
        expected = [model for model, _ in demo.PHONE_MODELS[brand][2]]
        variants = list(case.variants.order_by("position"))
        assert [v.options[demo.PHONE_OPTION] for v in variants] == expected
        assert [v.name for v in variants] == expected
    assert ProductVariant.objects.filter(sku="CASE-WAVE-IP16", name="iPhone 16").exists()
    assert ProductVariant.objects.filter(product__name="Wave case for iPhone").count() == 12


def test_some_tools_come_in_sizes(seeded):
    sizes = ProductVariant.objects.filter(product__name="Bonsai trimming shears")
    assert sorted(sizes.values_list("options__size", flat=True)) == ["160 mm", "180 mm", "200 mm"]
    assert ProductVariant.objects.filter(product__name="Knob cutter").count() == 1


def test_downloads_do_not_track_stock(seeded):
    downloads = ProductVariant.objects.filter(product__kind=Product.Kind.DIGITAL)
    assert downloads.count() >= 8
    assert not downloads.filter(track_inventory=True).exists()
    assert not downloads.exclude(stock=0).exists()
    assert not StockMovement.objects.filter(variant__in=downloads).exists()


def test_every_stocked_variant_has_its_stock_in_the_ledger(seeded):
    tracked = ProductVariant.objects.filter(track_inventory=True).annotate(
        ledger=Coalesce(Sum("stock_movements__delta"), 0)
    )
    assert tracked.filter(stock__gt=0).count() > 50
    assert [(v.sku, v.ledger) for v in tracked] == [(v.sku, v.stock) for v in tracked]
    rows = StockMovement.objects.select_related("variant")
    assert {(r.reason, r.note) for r in rows} == {("restock", "Demo data")}
    assert all(r.quantity_after == r.variant.stock for r in rows)


def test_images_are_stored_with_their_thumbnails(seeded):
    images = list(ProductImage.objects.all())
    assert {image.product_id for image in images} == set(
        Product.objects.values_list("pk", flat=True)
    )
    distinct = {image.image.name: image for image in images}
    assert len(distinct) == int(PICTURES) < len(images), "products share a small pool"
    for image in distinct.values():
        storage = image.image.storage
        assert storage.exists(image.image.name)
        assert storage.exists(image.thumbnail.name)
        assert storage.exists(image.large.name)
        assert image.image.width == image.image.height == demo.PICTURE_SIZE


def test_a_second_run_skips_with_one_query(seeded, django_assert_num_queries):
    before = catalogue()

    with django_assert_num_queries(1):
        out = seed()

    assert "skipped" in out
    assert catalogue() == before


def test_products_option_creates_exactly_that_many(django_assert_max_num_queries):
    # Batched inserts: about 50 queries on SQLite (its bind-parameter limit), fewer elsewhere.
    with django_assert_max_num_queries(80):
        out = seed("--products", "300")

    assert "300 products" in out
    assert Product.objects.count() == 300
    assert Product.objects.filter(slug="shimpaku-juniper-bonsai").exists(), "hand-written first"
    kinds = Product.objects.values("category__parent__slug").annotate(n=Count("pk"))
    assert {row["category__parent__slug"] for row in kinds} == {
        "bonsai-trees",
        "tools",
        "phone-cases",
        "digital-downloads",
    }
    tracked = ProductVariant.objects.filter(track_inventory=True).annotate(
        ledger=Coalesce(Sum("stock_movements__delta"), 0)
    )
    assert all(v.ledger == v.stock for v in tracked)
    for case in Product.objects.filter(category__parent__slug="phone-cases"):
        models = [o[demo.PHONE_OPTION] for o in case.variants.values_list("options", flat=True)]
        assert len(models) == len(set(models)) >= 7


def test_a_small_catalogue_still_has_every_kind():
    seed("--products", "4")

    assert set(Product.objects.values_list("category__parent__slug", flat=True)) == {
        "bonsai-trees",
        "tools",
        "phone-cases",
        "digital-downloads",
    }


def test_the_same_seed_gives_the_same_catalogue():
    seed("--products", "120", "--seed", "7")
    first = catalogue()

    seed("--products", "120", "--seed", "7", "--reset")

    assert catalogue() == first
    seed("--products", "120", "--seed", "8", "--reset")
    assert catalogue() != first


def test_reset_wipes_the_catalogue_but_not_the_users(user):
    seed("--products", "60")

    seed("--reset", "--products", "5")

    assert Product.objects.count() == 5
    assert Category.objects.count() == 15
    assert User.objects.filter(pk=user.pk).exists()


def test_force_adds_to_a_catalogue_with_fresh_skus_and_slugs():
    seed("--products", "5")

    seed("--force", "--products", "5")

    assert Product.objects.count() == 10
    assert Category.objects.count() == 15
    assert ProductVariant.objects.filter(sku="CASE-WAVE-IP16-2").exists()
    assert Product.objects.filter(slug="wave-case-for-iphone-2").exists()


@pytest.mark.parametrize("args", [("--products", "0"), ("--pictures", "0")])
def test_bad_numbers_are_refused(args):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_demo", *args)
    assert not Product.objects.exists()


@pytest.mark.postgres
def test_the_search_document_includes_name_and_tags():
    seed("--products", "60")

    assert not Product.objects.filter(search_vector__isnull=True).exists()
    # "shockproof" is only ever a tag, never in a product's name or description.
    tagged = set(Tag.objects.get(name="shockproof").products.values_list("name", flat=True))
    found = Product.objects.filter(search_vector=SearchQuery("shockproof", config="english"))
    assert "Wave case for iPhone" in tagged
    assert set(found.values_list("name", flat=True)) == tagged
    assert Product.objects.filter(
        name="Ficus retusa 'Ginseng'", search_vector=SearchQuery("ginseng", config="english")
    ).exists()
