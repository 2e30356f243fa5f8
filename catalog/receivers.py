"""Saved and deleted catalogue rows make the cards (`catalog.cards`) and the cached reads that
show them stale, as `catalog.invalidation` says.

Stock is saved by the stock services alone (`update_fields=["stock"]`): they know what a shopper
read before, and tell `catalog.invalidation` themselves. Writes that bypass signals (`update()`,
`bulk_update()`, `bulk_create()`) do the same: see `catalog.services` and `catalog.demo`.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from catalog import invalidation
from catalog.models import Category, Product, ProductImage, ProductModel3D, ProductVariant, Tag

STOCK_ONLY = frozenset({"stock"})


def product_saving(sender, instance: Product, raw: bool = False, **kwargs) -> None:
    if not raw:
        invalidation.product_about_to_change(instance)


def product_saved(sender, instance: Product, **kwargs) -> None:
    invalidation.product_changed(instance)


def part_of_product_saved(sender, instance, update_fields=None, **kwargs) -> None:
    """A variant, picture or 3D model saved or deleted; not a variant's stock (see above)."""
    if update_fields is not None and frozenset(update_fields) <= STOCK_ONLY:
        return
    invalidation.product_id_changed(instance.product_id)


def product_tags_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if reverse and action == "pre_clear":  # tag.products cleared: the products it had
        invalidation.tag_about_to_lose_products(instance)
    if not action.startswith("post_"):
        return
    if not reverse:  # product.tags changed
        invalidation.product_changed(instance)
    elif pk_set is None:  # tag.products cleared (see pre_clear above)
        invalidation.everything_changed()
    else:  # tag.products changed
        for product_id in pk_set:
            invalidation.product_id_changed(product_id)


def structure_changed(sender, **kwargs) -> None:
    invalidation.everything_changed()


def tag_saved(sender, instance: Tag, **kwargs) -> None:
    invalidation.tag_changed(instance)


def tag_deleting(sender, instance: Tag, **kwargs) -> None:
    invalidation.tag_about_to_lose_products(instance)


def connect() -> None:
    uid = "catalog_page_cache"
    pre_save.connect(product_saving, sender=Product, dispatch_uid=f"{uid}_product_saving")
    for signal, name in ((post_save, "save"), (post_delete, "delete")):
        signal.connect(product_saved, sender=Product, dispatch_uid=f"{uid}_product_{name}")
        for model in (ProductVariant, ProductImage, ProductModel3D):
            signal.connect(
                part_of_product_saved, sender=model, dispatch_uid=f"{uid}_{model.__name__}_{name}"
            )
    post_save.connect(tag_saved, sender=Tag, dispatch_uid=f"{uid}_Tag_save")
    pre_delete.connect(tag_deleting, sender=Tag, dispatch_uid=f"{uid}_Tag_deleting")
    post_delete.connect(structure_changed, sender=Tag, dispatch_uid=f"{uid}_Tag_delete")
    for signal, name in ((post_save, "save"), (post_delete, "delete")):
        signal.connect(structure_changed, sender=Category, dispatch_uid=f"{uid}_Category_{name}")
    m2m_changed.connect(
        product_tags_changed, sender=Product.tags.through, dispatch_uid=f"{uid}_product_tags"
    )
