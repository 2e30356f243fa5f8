"""The one place that prices a cart: lines, subtotal, shipping, discount and total.

Pure functions over objects already loaded: no queries, so the pages, the API and the order
service all show and charge the same amounts.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from catalog.models import Product, ProductVariant
from catalog.money import ZERO, percent_of, quantize
from orders.exceptions import DiscountInvalid
from orders.models import DiscountCode, ShippingMethod


@dataclass
class PricedLine:
    item_id: int | None
    variant: ProductVariant
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    problem: str = ""  # "" when the line can be bought as it is
    available: int | None = None  # how many can be bought, when that is the problem

    @property
    def is_digital(self) -> bool:
        return self.variant.product.kind == Product.Kind.DIGITAL


@dataclass
class Totals:
    lines: list[PricedLine] = field(default_factory=list)
    currency: str = ""
    subtotal: Decimal = ZERO
    shipping: Decimal = ZERO
    discount: Decimal = ZERO
    total: Decimal = ZERO
    needs_shipping: bool = False

    @property
    def problems(self) -> list[PricedLine]:
        return [line for line in self.lines if line.problem]

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


def line_problem(variant: ProductVariant, quantity: int) -> tuple[str, int | None]:
    """Why this quantity of this variant cannot be bought now ("" if it can)."""
    if not variant.is_buyable:
        return "unavailable", 0
    if variant.currency != settings.STORE_CURRENCY:
        return "unavailable", 0
    if variant.track_inventory and variant.stock < quantity:
        return ("sold_out", 0) if variant.stock <= 0 else ("insufficient_stock", variant.stock)
    return "", None


PROBLEM_TEXT = {
    "unavailable": "This item is no longer available.",
    "sold_out": "Sold out.",
    "insufficient_stock": "Only {available} left.",
}


def problem_text(line: PricedLine) -> str:
    return PROBLEM_TEXT.get(line.problem, "").format(available=line.available)


def price_line(variant: ProductVariant, quantity: int, item_id: int | None = None) -> PricedLine:
    problem, available = line_problem(variant, quantity)
    return PricedLine(
        item_id=item_id,
        variant=variant,
        quantity=quantity,
        unit_price=variant.price,
        line_total=quantize(variant.price * quantity),
        problem=problem,
        available=available,
    )


def shipping_fee(method: ShippingMethod | None, subtotal: Decimal, needs_shipping: bool) -> Decimal:
    if not needs_shipping or method is None:
        return ZERO
    if method.free_above is not None and subtotal >= method.free_above:
        return ZERO
    return quantize(method.fee)


def discount_check(code: DiscountCode, *, subtotal: Decimal, now=None) -> None:
    """Refuse a code that is off, out of its dates, used up or below its minimum subtotal.

    Per-customer limits need the customer's history: `services` checks those.
    """
    now = now or timezone.now()

    def refuse(reason: str, message: str):
        raise DiscountInvalid(message, code=reason, fields={"discount_code": [message]})

    if not code.is_active or (code.ends_at and now >= code.ends_at):
        refuse("discount_expired", "This code has expired.")
    if code.starts_at and now < code.starts_at:
        refuse("discount_not_started", "This code is not valid yet.")
    if code.usage_limit is not None and code.times_used >= code.usage_limit:
        refuse("discount_used_up", "This code has been used up.")
    if subtotal < code.min_subtotal:
        refuse(
            "discount_minimum",
            f"This code needs a subtotal of at least {code.min_subtotal}.",
        )


def discount_amount(code: DiscountCode | None, subtotal: Decimal) -> Decimal:
    if code is None:
        return ZERO
    if code.kind == DiscountCode.Kind.PERCENT:
        amount = percent_of(subtotal, code.value)
    else:
        amount = quantize(code.value)
    return min(amount, subtotal)


def price(
    lines: list[PricedLine],
    *,
    shipping_method: ShippingMethod | None = None,
    discount: DiscountCode | None = None,
) -> Totals:
    """Totals of priced lines. The discount applies to goods, never to shipping."""
    subtotal = quantize(sum((line.line_total for line in lines), ZERO))
    needs_shipping = any(not line.is_digital for line in lines)
    shipping = shipping_fee(shipping_method, subtotal, needs_shipping)
    off = discount_amount(discount, subtotal)
    return Totals(
        lines=lines,
        currency=settings.STORE_CURRENCY,
        subtotal=subtotal,
        shipping=shipping,
        discount=off,
        total=subtotal - off + shipping,
        needs_shipping=needs_shipping,
    )
