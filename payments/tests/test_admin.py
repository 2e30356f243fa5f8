"""The payment and refund screens of the admin, through Django's test client signed in as staff."""

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from catalog.models import ProductVariant
from orders.models import Order
from payments import services
from payments.models import Payment, Refund
from payments.tests.factories import place_order

pytestmark = pytest.mark.django_db
PAYMENTS = reverse("admin:payments_payment_changelist")
REFUNDS = reverse("admin:payments_refund_changelist")
ORDERS = reverse("admin:orders_order_changelist")


def act(client, url: str, action: str, objects):
    data = {"action": action, "_selected_action": [o.pk for o in objects]}
    return client.post(url, data, follow=True)


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_every_payment_screen_opens(staff_client, user):
    order = place_order(user=user)
    payment, _ = services.payment_start(order=order, provider_code="manual")
    services.payment_manual_confirm(payment=payment, user=order.user)
    refund = services.refund_request(order=order, user=user, reason="r")

    for url in (
        PAYMENTS,
        PAYMENTS + "?status=succeeded&provider=manual&problem=no",
        PAYMENTS + f"?q={order.number}",
        reverse("admin:payments_payment_change", args=[payment.pk]),
        REFUNDS,
        REFUNDS + "?status=requested",
        reverse("admin:payments_refund_change", args=[refund.pk]),
        ORDERS + "?attention=yes",
        reverse("admin:orders_order_change", args=[order.pk]),
    ):
        assert staff_client.get(url).status_code == 200, url


def test_staff_confirm_a_manual_payment_from_the_list(staff_client, emails_sent):
    order = place_order()
    payment, _ = services.payment_start(order=order, provider_code="manual")
    mail.outbox.clear()

    with emails_sent():
        response = act(staff_client, PAYMENTS, "confirm_manual", [payment])
    again = act(staff_client, PAYMENTS, "confirm_manual", [payment])

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert texts(response) == ["1 payment(s) confirmed; their orders are paid."]
    assert texts(again) == [
        f"Not done: #{payment.pk}: This payment is “Succeeded”: nothing to confirm."
    ]
    assert len(mail.outbox) == 1


def test_staff_record_a_payment_made_at_the_counter(staff_client):
    order = place_order()

    response = act(staff_client, ORDERS, "record_manual_payment", [order])

    order.refresh_from_db()
    assert texts(response) == ["1 order(s) paid."]
    assert order.status == Order.Status.PAID
    assert Payment.objects.get().created_by.email == "staff@example.com"


def test_staff_approve_a_refund_and_restock(staff_client, staff, user, emails_sent):
    order = place_order(user=user, quantity=2, stock=5)
    services.order_pay_manually(order=order, user=staff)
    refund = services.refund_request(order=order, user=user, reason="Wrong size")
    mail.outbox.clear()

    with emails_sent():
        response = act(staff_client, REFUNDS, "approve_and_restock", [refund])

    order.refresh_from_db()
    refund.refresh_from_db()
    assert texts(response) == ["1 refund(s) made; the customers are emailed."]
    assert (refund.status, refund.decided_by, refund.return_stock) == ("succeeded", staff, True)
    assert (order.status, order.refunded_total) == (Order.Status.REFUNDED, order.total)
    assert ProductVariant.objects.get(pk=order.lines.get().variant_id).stock == 5
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_staff_reject_a_refund(staff_client, staff, user):
    order = place_order(user=user)
    services.order_pay_manually(order=order, user=staff)
    refund = services.refund_request(order=order, user=user, reason="r")

    response = act(staff_client, REFUNDS, "reject", [refund])
    again = act(staff_client, REFUNDS, "approve", [refund])

    assert Refund.objects.get().status == "rejected"
    assert texts(response) == ["1 refund request(s) rejected; the customers are emailed."]
    assert texts(again) == [f"Not done: #{refund.pk}: This refund is already “Rejected”."]


def test_payments_cannot_be_added_edited_or_deleted(staff_client, user):
    order = place_order(user=user)
    payment, _ = services.payment_start(order=order, provider_code="manual")
    url = reverse("admin:payments_payment_change", args=[payment.pk])

    staff_client.post(url, {"amount": "0.01", "status": "succeeded"})

    assert staff_client.get(reverse("admin:payments_payment_add")).status_code == 403
    assert (
        staff_client.get(reverse("admin:payments_payment_delete", args=[payment.pk])).status_code
        == 403
    )
    payment.refresh_from_db()
    assert (payment.amount, payment.status) == (order.total, "pending")
