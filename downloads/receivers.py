"""Downloads' reactions to orders (connected in DownloadsConfig.ready)."""

import logging

from django.dispatch import receiver

from downloads import services
from orders import services as order_services
from orders import signals
from orders.exceptions import IllegalTransition
from orders.models import Order

logger = logging.getLogger(__name__)


@receiver(signals.order_paid, dispatch_uid="downloads_grant_on_paid")
def grant_on_paid(sender, order: Order, **kwargs) -> None:
    """A paid order's digital products can be downloaded at once; an order of downloads only is
    delivered by that."""
    granted = services.entitlements_grant_for_order(order=order)
    order.refresh_from_db(fields=["status", "ship_line1"])
    if granted and not order.needs_shipping and not order.lines.filter(is_digital=False).exists():
        try:
            order_services.order_transition(
                order=order.pk,
                to=Order.Status.DELIVERED,
                note="Downloads ready",
                expected_from={Order.Status.PAID},
            )
        except IllegalTransition:
            logger.info("digital_order_not_delivered", extra={"order": order.number})


@receiver(signals.order_refunded, dispatch_uid="downloads_revoke_on_refund")
def revoke_on_refund(sender, order: Order, **kwargs) -> None:
    order.refresh_from_db(fields=["status"])
    if order.status == Order.Status.REFUNDED:
        services.entitlements_revoke(order=order, reason="Order refunded")
        return
    refunded_lines = services.lines_refunded_in_full(order)
    if refunded_lines:
        services.entitlements_revoke(
            order=order, reason="Item refunded", order_line_ids=refunded_lines
        )


@receiver(signals.order_cancelled, dispatch_uid="downloads_revoke_on_cancel")
def revoke_on_cancel(sender, order: Order, **kwargs) -> None:
    services.entitlements_revoke(order=order, reason="Order cancelled")
