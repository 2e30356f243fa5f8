"""Every saved or deleted row a shopper could see makes the catalogue's cached pages stale.

Writes that bypass signals (`update()`, `bulk_update()`, `bulk_create()`) call
`page_cache.catalog_changed()` themselves: see `catalog.services` and `catalog.demo`.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from catalog import page_cache
from catalog.models import Category, Product, ProductImage, ProductModel3D, ProductVariant, Tag

SHOWN_TO_SHOPPERS = (Category, Product, ProductImage, ProductModel3D, ProductVariant, Tag)


def catalog_row_changed(sender, **kwargs) -> None:
    page_cache.catalog_changed()


def connect() -> None:
    for model in SHOWN_TO_SHOPPERS:
        uid = f"catalog_page_cache_{model.__name__}"
        post_save.connect(catalog_row_changed, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(catalog_row_changed, sender=model, dispatch_uid=f"{uid}_delete")
    m2m_changed.connect(
        catalog_row_changed, sender=Product.tags.through, dispatch_uid="catalog_page_cache_tags"
    )
