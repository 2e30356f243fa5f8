"""The emails of an order: what each one says, to whom, and which service move sends it."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Product
from catalog.tests.factories import ProductFactory, VariantFactory
from orders import emails, services, tokens
from orders.models import Order
from orders.tests.factories import (
    ADDRESS,
    CartFactory,
    CartItemFactory,
    DiscountCodeFactory,
    ShippingMethodFactory,
)

pytestmark = pytest.mark.django_db
Status = Order.Status
STORE = "Evergreen Store"


@pytest.fixture(autouse=True)
def _store(settings):
    settings.STORE_NAME = STORE
    settings.SITE_URL = "https://shop.example.com"
    settings.GUEST_VERIFY_HOURS = 48


def place(*, user=None, email="guest@example.com", digital=False, **kwargs) -> Order:
    """An order of two Trident maples at €30.00 (and an e-book at €9.50 when `digital`)."""
    cart = CartFactory(user=user)
    maple = ProductFactory(name="Trident maple")
    CartItemFactory(
        cart=cart,
        quantity=2,
        variant=VariantFactory(product=maple, name="Small", price=Decimal("30.00"), stock=5),
    )
    if digital:
        ebook = ProductFactory(name="Bonsai basics", kind=Product.Kind.DIGITAL)
        CartItemFactory(
            cart=cart,
            variant=VariantFactory(
                product=ebook, name="PDF", price=Decimal("9.50"), track_inventory=False
            ),
        )
    kwargs.setdefault(
        "shipping_method",
        ShippingMethodFactory(name="Courier", fee=Decimal("4.90"), free_above=None),
    )
    return services.order_place(
        cart=cart,
        email=user.email if user else email,
        user=user,
        shipping_address=ADDRESS,
        **kwargs,
    )


def only_email():
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    message = mail.outbox[0]
    html = {mime: body for body, mime in message.alternatives}["text/html"]
    return message, html


# --- Placing an order ---------------------------------------------------------------------------


def test_a_member_order_sends_received_with_lines_totals_address_and_link(user, emails_sent):
    with emails_sent():
        order = place(user=user)

    message, html = only_email()
    assert message.to == [user.email]
    assert order.number in message.subject
    assert STORE in message.subject
    body = message.body
    assert f"Thank you, we have your order {order.number}." in body
    assert "2 × Trident maple (Small)" in body
    assert "€30.00 each: €60.00" in body
    assert "Subtotal: €60.00" in body
    assert "Shipping (Courier): €4.90" in body
    assert "Total: €64.90" in body
    assert "1 Garden Row\nN1 9GU London\nUnited Kingdom" in body
    assert "awaiting payment" in body
    url = emails.order_url(order)
    assert url == f"https://shop.example.com/account/orders/{order.number}/"
    assert url in body
    assert f'href="{url}"' in html
    assert "€64.90" in html
    assert "awaiting payment" in html


def test_a_guest_order_sends_verify_with_a_link_that_verifies_and_the_code(emails_sent):
    with emails_sent():
        order = place(email="Guest@Example.com")

    message, html = only_email()
    assert message.to == ["guest@example.com"]
    assert order.number in message.subject
    assert STORE in message.subject
    assert "confirm" in message.subject.lower()
    code = tokens.guest_code(order)
    assert f"enter this code instead: {code}" in message.body
    assert code in html
    assert "valid for 48 hours" in message.body
    assert "2 × Trident maple (Small)" in message.body
    assert "Total: €64.90" in message.body
    link = emails.order_url(order)
    assert link in message.body
    assert f'href="{link}"' in html

    token = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1]
    assert services.order_guest_verify(token=token).email_verified_at is not None


def test_the_verify_email_is_not_sent_once_the_guest_has_confirmed():
    order = place()
    services.order_guest_verify(number=order.number, code=tokens.guest_code(order))

    emails.order_email_send(order_id=order.pk, kind="verify")

    assert mail.outbox == []


def test_discount_and_free_shipping_appear_in_the_summary(user):
    DiscountCodeFactory(code="SPRING", value=Decimal("10"))
    order = place(
        user=user,
        discount_code="spring",
        shipping_method=ShippingMethodFactory(name="Post", free_above=Decimal("50.00")),
    )

    emails.order_email_send(order_id=order.pk, kind="received")

    message, html = only_email()
    assert "Discount (SPRING): −€6.00" in message.body
    assert "Shipping (Post): free" in message.body
    assert "Total: €54.00" in message.body
    assert "−€6.00" in html


@pytest.mark.parametrize("kind", ["received", "verify", "paid", "shipped", "cancelled"])
def test_every_order_email_renders_text_and_html_with_number_and_store_in_the_subject(kind):
    order = place()
    order.carrier, order.tracking_number = "DHL", "JJD0001"
    Order.objects.filter(pk=order.pk).update(carrier="DHL", tracking_number="JJD0001")

    emails.order_email_send(order_id=order.pk, kind=kind)

    message, html = only_email()
    assert message.to == ["guest@example.com"]
    assert order.number in message.subject
    assert STORE in message.subject
    assert "\n" not in message.subject
    assert "{%" not in message.body
    assert "{{" not in message.body
    assert html.startswith("<!doctype html>")
    assert order.number in html
    assert "Hello Ada Maple," in message.body
    assert "Total: €64.90" in message.body


def test_no_email_for_an_order_that_is_gone():
    emails.order_email_send(order_id=999_999, kind="received")

    assert mail.outbox == []


# --- Status changes -----------------------------------------------------------------------------


def test_paying_sends_paid_with_what_happens_next(user, emails_sent):
    order = place(user=user)

    with emails_sent():
        services.order_transition(order=order, to=Status.PAID)

    message, html = only_email()
    assert message.to == [user.email]
    assert f"payment received for order {order.number}" in message.subject
    assert "We have received your payment of €64.90" in message.body
    assert "we email you its tracking number" in message.body
    assert "downloads" not in message.body  # nothing to download in this order
    assert "Payment received" in html


def test_the_paid_email_points_a_member_to_their_downloads(user, emails_sent):
    order = place(user=user, digital=True)

    with emails_sent():
        services.order_transition(order=order, to=Status.PAID)

    message, html = only_email()
    assert "Download your files here: https://shop.example.com/account/downloads/" in message.body
    assert message.body.count("Download your files") == 1
    assert "1 × Bonsai basics (PDF) [download]" in message.body
    assert html.count('href="https://shop.example.com/account/downloads/"') == 1


def test_shipping_sends_shipped_with_carrier_and_tracking_number(user, emails_sent):
    order = place(user=user)
    services.order_transition(order=order, to=Status.PAID)
    services.order_transition(order=order, to=Status.PROCESSING)

    with emails_sent():
        services.order_transition(
            order=order, to=Status.SHIPPED, carrier="DHL", tracking_number="JJD0099"
        )

    message, html = only_email()
    assert f"your order {order.number} is on its way" in message.subject
    assert "Carrier: DHL\nTracking number: JJD0099" in message.body
    assert "JJD0099" in html
    assert "DHL" in html


def test_staff_cancelling_an_unpaid_order_sends_cancelled(staff_user, emails_sent):
    order = place()

    with emails_sent():
        services.order_transition(order=order, to=Status.CANCELLED, user=staff_user)

    message, html = only_email()
    assert message.to == ["guest@example.com"]
    assert f"order {order.number} is cancelled" in message.subject
    assert f"We have cancelled your order {order.number}." in message.body
    assert "back on sale, and you have not been charged" in message.body
    assert "not paid in time" not in message.body
    assert "is cancelled" in html


def test_the_cancelled_email_of_an_expired_order_says_it_was_not_paid_in_time(emails_sent):
    order = place()
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with emails_sent():
        assert services.orders_expire_unpaid() == 1

    message, html = only_email()
    assert f"Your order {order.number} was cancelled because it was not paid in time." in (
        message.body
    )
    assert "because it was not paid in time" in html


def test_a_customers_own_cancellation_is_acknowledged(user, emails_sent):
    order = place(user=user)

    with emails_sent():
        services.order_cancel_by_customer(order=order, user=user)

    message, _html = only_email()
    assert f"As you asked, we have cancelled your order {order.number}." in message.body


def test_cancelling_a_paid_order_promises_the_refund(user, emails_sent):
    order = place(user=user)
    services.order_transition(order=order, to=Status.PAID)

    with emails_sent():
        services.order_transition(order=order, to=Status.CANCELLED)

    message, _html = only_email()
    assert "we will refund your payment of €64.90" in message.body
    assert "not been charged" not in message.body


@pytest.fixture
def staff_user():
    from accounts.tests.factories import UserFactory

    return UserFactory(is_staff=True)
