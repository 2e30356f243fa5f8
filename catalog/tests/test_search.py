import pytest

from catalog import selectors
from catalog.models import Product
from catalog.tests.factories import ProductFactory, TagFactory

pytestmark = pytest.mark.django_db


def search(text: str) -> list[str]:
    found = selectors.filter_search(Product.objects.all(), text)
    return list(found.order_by("-relevance", "name").values_list("name", flat=True))


@pytest.mark.postgres
def test_name_outranks_tags_outranks_description():
    ProductFactory(name="Potting soil", description="Good for a juniper in a shallow pot.")
    ProductFactory(name="Concave cutter", tags=["juniper"], description="Clean cuts.")
    ProductFactory(name="Juniper bonsai", description="A young tree.")
    ProductFactory(name="Phone case", description="Nothing about trees.")

    assert search("juniper") == ["Juniper bonsai", "Concave cutter", "Potting soil"]


@pytest.mark.postgres
def test_the_index_follows_renames_and_tag_changes():
    product = ProductFactory(name="Plain tool", description="")
    assert search("maple") == []

    product.tags.add(TagFactory(name="maple"))
    assert search("maple") == ["Plain tool"]

    tag = product.tags.get()
    tag.name = "trident"
    tag.save()
    assert search("maple") == []
    assert search("trident") == ["Plain tool"]

    Product.objects.filter(pk=product.pk).update(name="Maple scissors")
    assert search("maple") == ["Maple scissors"]


@pytest.mark.postgres
def test_stemming_and_partial_names():
    ProductFactory(name="Pruning shears", description="")
    assert search("prune") == ["Pruning shears"]
    assert search("shea") == ["Pruning shears"]  # a name that starts with what was typed


def test_fallback_search_finds_name_tag_and_description_in_that_order():
    ProductFactory(name="Potting soil", description="For a juniper.")
    ProductFactory(name="Concave cutter", tags=["juniper"], description="")
    ProductFactory(name="Juniper bonsai", description="")
    ProductFactory(name="Phone case", description="")

    assert search("juniper") == ["Juniper bonsai", "Concave cutter", "Potting soil"]
