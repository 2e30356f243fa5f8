"""The payment and refund services with the manual provider (no gateway needed): the one
"order paid" path, late and second payments, amount checks, refunds and their stock."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import ProductVariant, StockMovement
from orders import services as order_services
from orders import signals
from orders.models import Order
from payments import services
from payments.exceptions import OrderNotPayable, PaymentError, ProviderUnavailable, RefundError
from payments.models import Payment, Refund
from payments.tests.factories import place_order

pytestmark = pytest.mark.django_db
Status = Order.Status


def manual_payment(order: Order, user=None) -> Payment:
    payment, _ = services.payment_start(order=order, provider_code="manual", user=user)
    return payment


def variant_of(order: Order) -> ProductVariant:
    return ProductVariant.objects.get(pk=order.lines.get().variant_id)


def subjects() -> list[str]:
    return [message.subject for message in mail.outbox]


def test_a_manual_payment_holds_the_order_for_the_transfer(settings):
    settings.MANUAL_PAYMENT_DAYS = 7
    order = place_order()

    payment = manual_payment(order)
    again = manual_payment(order)

    order.refresh_from_db()
    assert (payment.pk, payment.status, payment.amount) == (again.pk, "pending", order.total)
    assert order.expires_at > timezone.now() + timedelta(days=6, hours=23)


def test_staff_confirming_a_manual_payment_pays_the_order_once(staff, emails_sent):
    order = place_order()
    payment = manual_payment(order)
    received = []

    def receiver(order, **kwargs):
        received.append(order.pk)

    signals.order_paid.connect(receiver)
    mail.outbox.clear()
    try:
        with emails_sent():
            services.payment_manual_confirm(payment=payment, user=staff)
        with pytest.raises(PaymentError) as refused:
            services.payment_manual_confirm(payment=Payment.objects.get(pk=payment.pk), user=staff)
    finally:
        signals.order_paid.disconnect(receiver)

    order.refresh_from_db()
    payment.refresh_from_db()
    assert refused.value.code == "payment_not_open"
    assert (order.status, payment.status, payment.amount_received) == (
        Status.PAID,
        "succeeded",
        order.total,
    )
    assert received == [order.pk]
    assert subjects() == [f"Evergreen Store: payment received for order {order.number}"]
    assert order.status_changes.filter(to_status=Status.PAID).get().changed_by == staff


def test_paying_is_refused_for_orders_that_are_not_awaiting_payment(staff):
    paid = place_order()
    services.order_pay_manually(order=paid, user=staff)
    unverified = place_order(verified=False)

    with pytest.raises(OrderNotPayable) as already:
        services.payment_start(order=paid, provider_code="manual")
    with pytest.raises(OrderNotPayable) as unconfirmed:
        services.payment_start(order=unverified, provider_code="manual")
    with pytest.raises(ProviderUnavailable) as unknown:
        services.payment_start(order=unverified, provider_code="cheque")

    assert (already.value.code, already.value.status_code) == ("order_not_payable", 409)
    assert unconfirmed.value.code == "email_not_verified"
    assert unknown.value.fields == {"provider": ["Choose one of: manual."]}


def test_stripe_is_not_offered_without_keys(settings):
    settings.STRIPE_TEST_SECRET_KEY = settings.STRIPE_TEST_PUBLIC_KEY = ""

    with pytest.raises(ProviderUnavailable):
        services.payment_start(order=place_order(), provider_code="stripe")


def test_money_arriving_after_expiry_reserves_the_stock_again(emails_sent):
    order = place_order(quantity=2, stock=5)
    payment = manual_payment(order)
    order_services.orders_expire_unpaid(now=timezone.now() + timedelta(days=30))
    order.refresh_from_db()
    assert (order.status, variant_of(order).stock) == (Status.CANCELLED, 5)

    with emails_sent():
        services.payment_succeeded(payment=payment)

    order.refresh_from_db()
    assert (order.status, order.cancelled_at, variant_of(order).stock) == (Status.PAID, None, 3)
    reasons = list(
        StockMovement.objects.filter(variant=variant_of(order))
        .order_by("pk")
        .values_list("reason", "delta")
    )
    assert reasons[-3:] == [("order_reserved", -2), ("order_released", 2), ("order_reserved", -2)]
    assert not Refund.objects.exists()


def test_money_arriving_after_expiry_when_sold_out_is_refunded_and_flagged(emails_sent):
    order = place_order(quantity=2, stock=2)
    payment = manual_payment(order)
    order_services.orders_expire_unpaid(now=timezone.now() + timedelta(days=30))
    ProductVariant.objects.filter(pk=variant_of(order).pk).update(stock=0)
    mail.outbox.clear()

    with emails_sent():
        services.payment_succeeded(payment=payment)

    order.refresh_from_db()
    payment.refresh_from_db()
    refund = Refund.objects.get()
    assert order.status == Status.CANCELLED
    assert "refunded automatically" in order.attention
    assert (refund.origin, refund.status, refund.amount) == ("automatic", "succeeded", order.total)
    assert payment.refunded_amount == order.total
    assert order.refunded_total == 0  # the order never counted this money as paid
    assert subjects() == [f"Evergreen Store: your payment for order {order.number} is refunded"]


def test_a_customer_cancelled_order_is_refunded_not_revived(user, emails_sent):
    order = place_order(user=user)
    payment = manual_payment(order)
    order_services.order_cancel_by_customer(order=order, user=user)

    with emails_sent():
        services.payment_succeeded(payment=payment)

    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert Refund.objects.get().origin == "automatic"


def test_a_second_payment_of_a_paid_order_is_refunded(staff, emails_sent):
    order = place_order()
    first = manual_payment(order)
    second = Payment.objects.create(
        order=order, provider="manual", amount=order.total, currency=order.currency
    )
    with emails_sent():
        services.payment_manual_confirm(payment=first, user=staff)
        services.payment_manual_confirm(payment=second, user=staff)

    order.refresh_from_db()
    second.refresh_from_db()
    assert (order.status, order.refunded_total) == (Status.PAID, 0)
    assert second.refunded_amount == order.total
    assert "second payment" in second.problem


def test_a_payment_that_does_not_match_the_order_flags_it_and_keeps_it(emails_sent):
    order = place_order()
    payment = manual_payment(order)

    services.payment_succeeded(payment=payment, amount=Decimal("1.00"))
    order_services.orders_expire_unpaid(now=timezone.now() + timedelta(days=30))

    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT  # not paid, and not expired either
    assert "Payment mismatch: Received 1.00 EUR" in order.attention
    assert Payment.objects.get().status == "succeeded"
    assert not Refund.objects.exists()


def test_a_failed_then_succeeded_report_ends_paid_in_either_order():
    from payments.providers.base import Outcome

    failed = Outcome("failed", failure_code="card_declined", failure_message="Declined.")
    for reports in ([failed, "ok"], ["ok", failed]):
        order = place_order()
        payment = manual_payment(order)
        for report in reports:
            if report == "ok":
                services.payment_succeeded(payment=payment)
            else:
                services.payment_apply(payment=payment, outcome=report)
        payment.refresh_from_db()
        order.refresh_from_db()
        assert (payment.status, payment.failure_message, order.status) == (
            "succeeded",
            "",
            Status.PAID,
        )


# --- Refunds --------------------------------------------------------------------------------------


def paid_order(user, staff, **kwargs) -> Order:
    order = place_order(user=user, **kwargs)
    services.order_pay_manually(order=order, user=staff)
    order.refresh_from_db()
    return order


def test_a_partial_refund_then_the_rest(user, staff, emails_sent):
    order = paid_order(user, staff, quantity=3, price="10.00")  # 30.00 + 4.90
    line = order.lines.get()
    mail.outbox.clear()

    first = services.refund_request(
        order=order,
        user=user,
        reason="One arrived broken",
        lines=[{"line": line.pk, "quantity": 1}],
    )
    with emails_sent():
        services.refund_approve(refund=first, user=staff, return_stock=True)
    order.refresh_from_db()
    assert (first.amount, order.status, order.refunded_total) == (
        Decimal("10.00"),
        Status.PARTIALLY_REFUNDED,
        Decimal("10.00"),
    )
    assert variant_of(order).stock == 8  # 10 - 3 + 1 returned
    assert StockMovement.objects.filter(reason="return", delta=1).count() == 1

    rest = services.refund_request(order=order, user=user, reason="Changed my mind")
    with emails_sent():
        services.refund_approve(refund=rest, user=staff)
    order.refresh_from_db()
    assert (rest.amount, order.status, order.refunded_total) == (
        Decimal("24.90"),
        Status.REFUNDED,
        order.total,
    )
    assert variant_of(order).stock == 8  # not asked to return stock this time
    assert subjects() == [f"Evergreen Store: refund for order {order.number}"] * 2
    assert "Refunded so far: €10.00 of €34.90" in mail.outbox[0].body
    assert "in full: €34.90" in mail.outbox[1].body


def test_refund_requests_are_checked(user, staff):
    unpaid = place_order(user=user)
    with pytest.raises(RefundError) as not_paid:
        services.refund_request(order=unpaid, user=user, reason="x")
    order = paid_order(user, staff, quantity=2)
    line = order.lines.get()
    with pytest.raises(RefundError) as too_many:
        services.refund_request(
            order=order, user=user, reason="x", lines=[{"line": line.pk, "quantity": 3}]
        )
    with pytest.raises(RefundError) as foreign:
        services.refund_request(
            order=order, user=user, reason="x", lines=[{"line": 0, "quantity": 1}]
        )
    services.refund_request(order=order, user=user, reason="x")
    with pytest.raises(RefundError) as twice:
        services.refund_request(order=order, user=user, reason="again")

    assert (not_paid.value.code, not_paid.value.status_code) == ("order_not_refundable", 409)
    assert too_many.value.fields == {"lines": [f"Line 1: at most 2 of “{line.product_name}” left."]}
    assert foreign.value.fields["lines"][0].startswith("Line 1: not a line of this order")
    assert twice.value.code == "refund_already_requested"


def test_a_rejected_refund_changes_nothing_but_tells_the_customer(user, staff, emails_sent):
    order = paid_order(user, staff)
    refund = services.refund_request(order=order, user=user, reason="Too small")
    mail.outbox.clear()

    with emails_sent():
        services.refund_reject(refund=refund, user=staff, note="Custom-sized items are final.")
    with pytest.raises(RefundError):
        services.refund_approve(refund=refund, user=staff)

    order.refresh_from_db()
    assert (order.status, order.refunded_total) == (Status.PAID, 0)
    assert subjects() == [f"Evergreen Store: about your refund request for order {order.number}"]
    assert "Custom-sized items are final." in mail.outbox[0].body
