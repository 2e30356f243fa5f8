"""The catalogue's reads name the models' fields: the card rows (`selectors.CARD_FIELDS`),
the cards stored on products (`catalog.cards`: what they are worked out from), the category
path's SQL (`selectors.CATEGORY_PATH_SQL`), the product page's prefetches, the outputs and what
makes the cache stale (`catalog.invalidation`).

A new, renamed or removed field must be looked at in each of them, and a soft delete must reach
`ProductQuerySet.visible`: this list fails until it has been, and is then brought up to date.
"""

import pytest

from catalog.models import Category, Product, ProductImage, ProductVariant, Tag

FIELDS_THE_READS_WERE_WRITTEN_FOR = {
    Product: [
        "id",
        "name",
        "slug",
        "description",
        "kind",
        "category",
        "status",
        "is_featured",
        "download_limit",
        "download_days",
        "seo_title",
        "seo_description",
        "created_at",
        "updated_at",
        "search_vector",
        "card",
        "tags",
    ],
    ProductVariant: [
        "id",
        "product",
        "sku",
        "name",
        "options",
        "price",
        "compare_at_price",
        "cost_price",
        "currency",
        "stock",
        "low_stock_threshold",
        "track_inventory",
        "is_active",
        "weight_grams",
        "position",
    ],
    ProductImage: ["id", "product", "variant", "image", "alt_text", "position"],
    Category: ["id", "parent", "name", "slug", "description", "image", "position"],
    Tag: ["id", "name", "slug"],
}


@pytest.mark.parametrize("model", list(FIELDS_THE_READS_WERE_WRITTEN_FOR), ids=lambda m: m.__name__)
def test_the_reads_were_looked_at_for_every_field(model):
    fields = [field.name for field in model._meta.get_fields() if field.concrete]

    assert fields == FIELDS_THE_READS_WERE_WRITTEN_FOR[model], (
        f"The fields of {model.__name__} changed: look at the reads this module names, "
        "then bring this list up to date."
    )
