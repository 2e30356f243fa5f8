"""Money: Decimal amounts rounded one way, everywhere in the store."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(amount: Decimal | int | str) -> Decimal:
    """Round to cents, half up (the rounding shoppers expect on a receipt)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    return quantize(amount * percent / Decimal(100))
