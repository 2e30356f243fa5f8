"""Shop page helpers: prices, stock states and the product card."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape  # Django's, less its lazy-text wrapper: the same text, three times faster

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import SafeString, mark_safe

from catalog.models import VariantRules
from catalog.selectors import ProductCard

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


SOLD_OUT = StockState("sold_out", "Sold out")
IN_STOCK = StockState("in_stock", "In stock")
FEW_LEFT = StockState("low", "Few left")


@register.filter
def stock_state(variant: VariantRules) -> StockState:
    """What a shopper reads about one variant's stock."""
    if not variant.is_available:
        return SOLD_OUT
    if variant.is_low_on_stock:
        return StockState("low", f"Only {variant.stock} left")
    return IN_STOCK


def product_stock_state(variants: Sequence[VariantRules]) -> StockState:
    """A whole product's stock, for its card: sold out only when no variant can be bought."""
    available = [v for v in variants if v.is_available]
    if not available:
        return SOLD_OUT
    if len(variants) == 1:
        return stock_state(variants[0])
    if all(v.is_low_on_stock for v in available):
        return FEW_LEFT
    return IN_STOCK


# A product card, written out rather than rendered by the template engine: a list page shows 24
# of them, which took the engine 3 ms. Texts are escaped where they are put in. The title link
# stretches over the whole card (see store.css), so the card is one link.
CARD_HTML = (
    '<article class="product-card">'
    '<div class="product-card__media">{media}</div>'
    '<div class="product-card__body">'
    '<h3 class="product-card__title"><a href="{url}">{name}</a></h3>'
    "{price}"
    '<p class="stock stock--{stock_code}">{stock_label}</p>'
    "</div>"
    "</article>"
)
CARD_PICTURE_HTML = (
    '<img src="{thumbnail}" srcset="{thumbnail} 400w, {large} 1200w"'
    ' sizes="(min-width: 72rem) 17rem, (min-width: 40rem) 30vw, 50vw"'
    ' width="400" height="400" loading="lazy" decoding="async" alt="{alt}">'
)
CARD_PLACEHOLDER_HTML = '<span class="product-card__placeholder" aria-hidden="true"></span>'
CARD_PRICE_HTML = '<p class="price">{price_from}<span class="price__now">{now}</span>{was}</p>'
CARD_PRICE_FROM_HTML = '<span class="price__from">from</span> '
CARD_PRICE_WAS_HTML = ' <s class="price__was"><span class="visually-hidden">was </span>{was}</s>'


@register.simple_tag
def product_card_items(cards: list[ProductCard]) -> SafeString:
    """The cards of `selectors.product_cards` as the items of a list, one tag for them all."""
    return mark_safe("".join(f"<li>{product_card(card)}</li>" for card in cards))  # escaped within


def product_card(card: ProductCard) -> str:
    """A card of `selectors.product_cards`, as HTML."""
    picture, cheapest = card.picture, card.cheapest
    media = CARD_PLACEHOLDER_HTML
    if picture:
        media = CARD_PICTURE_HTML.format(
            thumbnail=escape(picture.thumbnail_url),
            large=escape(picture.large_url),
            alt=escape(picture.alt_text or card.name),
        )
    price = ""
    if cheapest:
        currency = cheapest.currency
        price = CARD_PRICE_HTML.format(
            price_from=CARD_PRICE_FROM_HTML if card.price_varies else "",
            now=escape(money(cheapest.price, currency)),
            was=CARD_PRICE_WAS_HTML.format(was=escape(money(cheapest.compare_at_price, currency)))
            if cheapest.is_on_sale
            else "",
        )
    stock = product_stock_state(card.variants)
    return CARD_HTML.format(
        media=media,
        url=escape(card.url),
        name=escape(card.name),
        price=price,
        stock_code=stock.code,
        stock_label=escape(stock.label),
    )


@register.simple_tag
def select_options(choices, selected) -> SafeString:
    """The <option>s of a <select>: `choices` as (value, label) pairs, the one equal to
    `selected` chosen. One tag instead of a loop over them (the filter panel of every list)."""
    return mark_safe(
        "".join(
            f'<option value="{escape(str(value))}"{" selected" if value == selected else ""}>'
            f"{escape(str(label))}</option>"
            for value, label in choices
        )
    )


@register.filter
def json_ld(data: dict) -> SafeString:
    """`data` as JSON safe to put inside <script type="application/ld+json">."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return mark_safe(text.translate(JSON_SCRIPT_ESCAPES))
