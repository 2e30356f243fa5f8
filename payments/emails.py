"""The emails payments send: a failed card, a rejected refund request, money returned."""

from config.emails import send_templated_email
from orders.emails import order_url
from payments.models import Payment, Refund


def payment_email_send(*, payment_id: int, kind: str) -> None:
    payment = Payment.objects.filter(pk=payment_id).select_related("order").first()
    if payment is None:
        return
    if kind == "payment_failed" and payment.status != Payment.Status.FAILED:
        return  # paid with another try in the meantime
    order = payment.order
    context = {"order": order, "payment": payment, "order_url": order_url(order)}
    send_templated_email(to=[order.email], template=kind, context=context)


def refund_email_send(*, refund_id: int, kind: str) -> None:
    refund = Refund.objects.filter(pk=refund_id).select_related("order").first()
    if refund is None:
        return
    order = refund.order
    context = {"order": order, "refund": refund, "order_url": order_url(order)}
    send_templated_email(to=[order.email], template=kind, context=context)
