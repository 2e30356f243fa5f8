from django import template

from payments import selectors

register = template.Library()


@register.inclusion_tag("payments/_payment_state.html")
def payment_state(order):
    """Where the order's payment stands, from its payment rows (one query)."""
    return {"order": order, "state": selectors.payment_state(order)}
