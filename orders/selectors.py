"""Reads of carts and orders, with what their pages and API outputs need loaded."""

from django.db.models import Prefetch, QuerySet

from catalog.models import ProductImage, ProductVariant
from orders.models import Cart, CartItem, Order


def cart_lines(cart: Cart) -> list[CartItem]:
    """The cart's lines with what pricing, pictures and snapshots need, in two queries: each
    line's variant and product, then the products' pictures in display order, as `gallery` (as
    the product page has it) for `line_picture`."""
    pictures = Prefetch(
        "variant__product__images", queryset=ProductImage.objects.all(), to_attr="gallery"
    )
    return list(cart.items.select_related("variant__product").prefetch_related(pictures))


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
