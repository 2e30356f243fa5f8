"""Shop page helpers: prices, the product grid and structured data."""

import json
from collections.abc import Iterable
from decimal import Decimal

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Product
from catalog.selectors import ProductCard

register = template.Library()

# The characters that could end a <script> element or open an HTML comment inside it.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF\u00a0", "JPY": "¥"}


@register.filter
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    if amount is None:
        return ""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency}\u00a0")
    return f"{symbol}{amount:,.2f}"


@register.filter
def json_ld(data: dict) -> SafeString:
    """`data` as JSON safe to put inside <script type="application/ld+json">."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return mark_safe(text.translate(JSON_SCRIPT_ESCAPES))


@register.inclusion_tag("catalog/_product_cards.html")
def product_grid(cards: Iterable[ProductCard | Product]) -> dict:
    """The items of a grid of products: cards of `selectors.product_cards`, or products.

    Each card's words and addresses are worked out here, so that the template reads plain
    values: looking up attributes of objects is most of what the template engine spends on a
    list of cards.
    """
    return {"cards": [_card(card) for card in cards]}


def _card(card: ProductCard | Product) -> dict:
    picture, cheapest, stock = card.picture, card.cheapest, card.stock_state
    on_sale = cheapest is not None and cheapest.is_on_sale
    return {
        "url": card.get_absolute_url(),
        "name": card.name,
        "picture": {
            "thumbnail": picture.thumbnail_url,
            "large": picture.large_url,
            "alt": picture.alt_text or card.name,
        }
        if picture
        else None,
        "price": money(cheapest.price, cheapest.currency) if cheapest else "",
        "price_varies": card.price_varies,
        "was": money(cheapest.compare_at_price, cheapest.currency) if on_sale else "",
        "stock": {"code": stock.code, "label": stock.label},
    }
