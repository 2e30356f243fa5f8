"""The emails an order sends: received, guest verification, paid, shipped, cancelled."""

from django.conf import settings
from django.urls import reverse

from config.emails import send_templated_email
from orders import tokens
from orders.models import Order


def order_url(order: Order) -> str:
    """Where the customer sees the order: their account, or the guest link."""
    if order.is_guest:
        return settings.SITE_URL + reverse("orders:guest", args=[tokens.guest_token(order)])
    return settings.SITE_URL + order.get_absolute_url()


def order_email_send(*, order_id: int, kind: str) -> None:
    order = Order.objects.filter(pk=order_id).prefetch_related("lines").first()
    if order is None:
        return
    context = {"order": order, "lines": order.line_list, "order_url": order_url(order)}
    if kind == "verify":
        if order.email_verified_at is not None:
            return  # confirmed in the meantime
        context |= {
            "code": tokens.guest_code(order),
            "valid_hours": settings.GUEST_VERIFY_HOURS,
        }
    if kind == "cancelled":
        context["cancelled_because"] = _cancel_reason(order)
    if kind == "paid" and any(line.is_digital for line in context["lines"]):
        from downloads.links import downloads_url

        context["downloads_url"] = downloads_url(order)
        context["downloads_days"] = settings.GUEST_DOWNLOAD_LINK_DAYS
    send_templated_email(to=[order.email], template=f"order_{kind}", context=context)


def _cancel_reason(order: Order) -> str:
    """ "expired", "customer" or "" (cancelled by the shop), from the last status change."""
    from orders import services

    last = order.status_changes.order_by("-created_at", "-pk").first()
    note = last.note if last else ""
    return {services.EXPIRED_NOTE: "expired", services.CUSTOMER_CANCEL_NOTE: "customer"}.get(
        note, ""
    )
