"""The pay step on the shop's pages, through Django's test client."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from djstripe.models import WebhookEndpoint

from accounts.tests.factories import UserFactory
from orders import tokens
from payments import services
from payments.models import Payment
from payments.tests.factories import place_order

pytestmark = pytest.mark.django_db


def pay_url(order) -> str:
    return reverse("payments:pay", args=[order.number])


def test_a_member_pays_manually_and_gets_the_instructions(client, user):
    client.force_login(user)
    order = place_order(user=user)

    page = client.get(pay_url(order))
    response = client.post(pay_url(order), {"provider": "manual"}, follow=True)

    assert page.status_code == 200
    assert b'value="manual"' in page.content
    assert b'value="stripe"' not in page.content
    assert response.redirect_chain == [(reverse("payments:manual", args=[order.number]), 302)]
    assert "Almost done: please pay €44.90" in response.content.decode()
    assert order.number in response.content.decode()
    payment = Payment.objects.get()
    assert (payment.provider, payment.status, payment.amount) == ("manual", "pending", order.total)


def test_the_order_pages_offer_to_pay_while_payment_is_open(client, user, staff):
    client.force_login(user)
    order = place_order(user=user)
    detail = reverse("orders:detail", args=[order.number])

    assert pay_url(order).encode() in client.get(detail).content
    services.order_pay_manually(order=order, user=staff)
    assert pay_url(order).encode() not in client.get(detail).content
    # Paid already: the pay step sends the shopper back to the order.
    assert client.get(pay_url(order)).url == detail


def test_nobody_opens_the_pay_step_of_another_order(client, user):
    theirs = place_order(user=UserFactory())
    guest_order = place_order()
    client.force_login(user)

    assert client.get(pay_url(theirs)).status_code == 404
    assert client.post(pay_url(guest_order), {"provider": "manual"}).status_code == 404
    client.logout()
    assert client.get(pay_url(theirs)).status_code == 404
    assert not Payment.objects.exists()


def test_a_guest_pays_after_opening_the_emailed_link(client):
    order = place_order()

    client.get(reverse("orders:guest", args=[tokens.guest_token(order)]))
    response = client.post(pay_url(order), {"provider": "manual"})

    assert response.status_code == 302
    assert Payment.objects.get().order == order


def test_an_unknown_method_is_refused_with_a_message(client, user):
    client.force_login(user)
    order = place_order(user=user)

    response = client.post(pay_url(order), {"provider": "stripe"})

    assert response.status_code == 400
    assert "is not a payment method this shop offers" in response.content.decode()
    assert not Payment.objects.exists()


def test_the_card_page_carries_the_keys_for_the_payment_element(client, user, stripe_api):
    client.force_login(user)
    order = place_order(user=user)

    response = client.post(pay_url(order), {"provider": "stripe"})

    payment = Payment.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-publishable-key="{stripe_api.public_key}"' in html
    assert f'data-client-secret="{payment.reference}_secret' in html
    assert 'id="payment-element"' in html
    assert "https://js.stripe.com/v3/" in html


def test_the_return_page_says_where_the_payment_stands(client, user, staff):
    client.force_login(user)
    order = place_order(user=user)
    done = reverse("payments:done", args=[order.number])

    assert "We are confirming your payment" in client.get(done).content.decode()
    services.order_pay_manually(order=order, user=staff)
    assert "Payment received, thank you" in client.get(done).content.decode()


# --- stripe_setup -------------------------------------------------------------------------------


def test_stripe_setup_records_an_endpoint_made_elsewhere(settings, capsys):
    settings.STRIPE_TEST_SECRET_KEY = ""

    call_command("stripe_setup", "--base-url", "https://shop.example.com", "--secret", "whsec_a1")
    call_command("stripe_setup", "--base-url", "https://shop.example.com", "--secret", "whsec_b2")

    endpoint = WebhookEndpoint.objects.get()
    path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid})
    assert endpoint.url == f"https://shop.example.com{path}"
    assert endpoint.secret == "whsec_b2"
    assert "payment_intent.succeeded" in endpoint.enabled_events
    assert f"Recorded the webhook endpoint {endpoint.url}" in capsys.readouterr().out


def test_stripe_setup_needs_a_key_or_a_secret(settings):
    settings.STRIPE_TEST_SECRET_KEY = ""

    with pytest.raises(CommandError, match="Set STRIPE_TEST_SECRET_KEY"):
        call_command("stripe_setup")
    with pytest.raises(CommandError, match="starts with whsec_"):
        call_command("stripe_setup", "--secret", "nope")


def test_the_order_page_says_where_its_payment_stands(client, user, staff):
    client.force_login(user)
    order = place_order(user=user)
    detail = reverse("orders:detail", args=[order.number])

    assert "Payment:</strong> Not paid yet" in client.get(detail).content.decode()
    payment, _ = services.payment_start(order=order, provider_code="manual")
    awaiting = client.get(detail).content.decode()
    assert "Awaiting your payment (bank transfer or at pickup)" in awaiting
    assert reverse("payments:manual", args=[order.number]) in awaiting
    services.payment_manual_confirm(payment=payment, user=staff)
    refund = services.refund_request(order=order, user=user, reason="r")
    services.refund_approve(refund=refund, user=staff)
    assert "Payment:</strong> Refunded" in client.get(detail).content.decode()


def test_a_member_asks_for_a_refund_of_some_items_on_the_page(client, user, staff):
    client.force_login(user)
    order = place_order(user=user, quantity=3, price="10.00")
    services.order_pay_manually(order=order, user=staff)
    url = reverse("payments:refund-request", args=[order.number])
    line = order.lines.get()
    assert url in client.get(reverse("orders:detail", args=[order.number])).content.decode()

    too_many = client.post(url, {"reason": "Broken", f"line_{line.pk}": "4"})
    no_reason = client.post(url, {f"line_{line.pk}": "1"})
    done = client.post(url, {"reason": "One was broken", f"line_{line.pk}": "1"})
    again = client.get(url)

    assert too_many.status_code == no_reason.status_code == 400
    assert "less than or equal to 3" in too_many.content.decode()
    assert done.status_code == 302
    refund = order.refunds.get()
    assert (refund.amount, refund.reason, refund.status) == (
        Decimal("10.00"),
        "One was broken",
        "requested",
    )
    assert "We already have your request" in again.content.decode()


def test_the_refund_page_is_only_for_paid_orders_of_the_shopper(client, user):
    client.force_login(user)
    unpaid = place_order(user=user)
    theirs = place_order(user=UserFactory())

    assert client.get(reverse("payments:refund-request", args=[unpaid.number])).status_code == 302
    assert client.get(reverse("payments:refund-request", args=[theirs.number])).status_code == 404


def test_the_return_page_asks_stripe_when_the_webhook_is_late(client, user, stripe_api):
    import stripe

    client.force_login(user)
    order = place_order(user=user)
    client.post(pay_url(order), {"provider": "stripe"})
    payment = Payment.objects.get()
    stripe.PaymentIntent.modify(payment.reference, payment_method="pm_card_visa")
    stripe.PaymentIntent.confirm(payment.reference)  # as Stripe.js does; no webhook here

    page = client.get(reverse("payments:done", args=[order.number]))

    assert "Payment received, thank you" in page.content.decode()
    order.refresh_from_db()
    assert order.status == "paid"
