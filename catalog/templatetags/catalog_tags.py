"""Shop page helpers: prices, stock states and the product card."""

import json
from dataclasses import dataclass
from decimal import Decimal

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Product, ProductVariant

register = template.Library()

# The characters that could end a <script> element or open an HTML comment inside it.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF\u00a0", "JPY": "¥"}


@dataclass(frozen=True)
class StockState:
    code: str  # in_stock | low | sold_out: also the modifier of the `stock` CSS class
    label: str


@register.filter
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    if amount is None:
        return ""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency}\u00a0")
    return f"{symbol}{amount:,.2f}"


@register.filter
def stock_state(variant: ProductVariant) -> StockState:
    """What a shopper reads about one variant's stock."""
    if not variant.is_available:
        return StockState("sold_out", "Sold out")
    if variant.is_low_on_stock:
        return StockState("low", f"Only {variant.stock} left")
    return StockState("in_stock", "In stock")


def product_stock_state(variants: list[ProductVariant]) -> StockState:
    """A whole product's stock, for its card: sold out only when no variant can be bought."""
    available = [v for v in variants if v.is_available]
    if not available:
        return StockState("sold_out", "Sold out")
    if len(variants) == 1:
        return stock_state(variants[0])
    if all(v.is_low_on_stock for v in available):
        return StockState("low", "Few left")
    return StockState("in_stock", "In stock")


@register.inclusion_tag("catalog/_product_card.html")
def product_card(product: Product) -> dict:
    """Needs a product from `selectors.with_listing_data` (variants and images prefetched)."""
    variants = product.active_variants
    cheapest = min(variants, key=lambda v: (v.price, v.position, v.pk), default=None)
    images = product.images.all()
    image = images[0] if images else None
    return {
        "product": product,
        "image": image,
        # Each access to a picture's spec makes a new file object: read each URL once.
        "thumbnail_url": image.thumbnail.url if image else "",
        "large_url": image.large.url if image else "",
        "cheapest": cheapest,
        "price_varies": len({v.price for v in variants}) > 1,
        "stock": product_stock_state(variants),
    }


@register.filter
def json_ld(data: dict) -> SafeString:
    """`data` as JSON safe to put inside <script type="application/ld+json">."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return mark_safe(text.translate(JSON_SCRIPT_ESCAPES))
