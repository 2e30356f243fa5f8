"""Reads of carts and orders, with what their pages and API outputs need loaded."""

from collections import defaultdict

from django.db.models import QuerySet

from catalog.models import ProductImage, ProductVariant
from orders.models import Cart, CartItem, Order


def cart_lines(cart: Cart) -> list[CartItem]:
    """The cart's lines with what pricing, pictures and snapshots need, in two queries: each
    line's variant and product, then the products' pictures in display order, set on each
    product as `gallery` (as the product page has it) for `line_picture`. One plain query:
    prefetch_related through the variant and the product makes a queryset per product."""
    items = list(cart.items.select_related("variant__product"))
    galleries = defaultdict(list)
    for image in ProductImage.objects.filter(product__in={i.variant.product_id for i in items}):
        galleries[image.product_id].append(image)
    for item in items:
        item.variant.product.gallery = galleries[item.variant.product_id]
    return items


def line_picture(variant: ProductVariant) -> ProductImage | None:
    """The picture of a cart line: the variant's own, else its product's first (of the gallery
    that `cart_lines` loaded)."""
    images = variant.product.gallery
    return next((i for i in images if i.variant_id == variant.pk), images[0] if images else None)


DETAILS = ("lines", "status_changes")


def orders_with_details() -> QuerySet[Order]:
    """Orders with their lines and status history: the same queries for one order or a page."""
    return Order.objects.prefetch_related(*DETAILS)


def orders_of(user) -> QuerySet[Order]:
    """A member's own orders, newest first."""
    return orders_with_details().filter(user=user)
