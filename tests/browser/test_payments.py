"""The pay step in a real browser: the card page wired to a Stripe PaymentIntent (on localstripe),
and staff confirming a manual payment in the admin, which the shopper then sees as paid."""

import re

import pytest
import stripe
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from accounts.tests.factories import UserFactory
from orders.models import Order
from payments.models import Payment
from payments.providers.stripe import to_minor
from payments.tests.conftest import localstripe_url, stripe_api  # noqa: F401
from tests.browser.test_checkout import (
    PHONE,
    add_to_cart,
    assert_fits_a_phone,
    fill_address,
    pay_manually,
    stock_shop,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Trident-Maple-42"
STAFF_PASSWORD = "Satsuki-Azalea-19"
CARD_FORM_FAILED = (
    "The card form could not load. Check your connection and reload the page, "
    "or choose another way to pay."
)


@pytest.fixture
def shop(site, settings) -> str:
    """The live server with the pages of the checkout tests (they also serve product pictures)."""
    settings.ROOT_URLCONF = "tests.browser.test_checkout"
    return site


def place_member_order(page: Page, site: str) -> Order:
    """A member logs in and buys two cutters (€49.00 + €4.90 shipping); their order page opens."""
    stock_shop()
    user = UserFactory(email="ada@example.com", raw_password=PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    add_to_cart(page, site, "concave-cutter", quantity=2)
    page.get_by_role("link", name="Go to checkout").click()
    fill_address(page)
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    order = Order.objects.get()
    assert order.user_id == user.pk
    page.get_by_role("link", name="View your order").click()
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    return order


def confirm_in_admin(browser: Browser, site: str, order: Order, screenshot) -> None:
    """Staff log in to the admin (on a desktop screen) and confirm the order's manual payment."""
    UserFactory(
        email="staff@example.com", raw_password=STAFF_PASSWORD, is_staff=True, is_superuser=True
    )
    staff_context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        admin = staff_context.new_page()
        admin.goto(f"{site}/admin/")
        admin.locator("#id_username").fill("staff@example.com")
        admin.locator("#id_password").fill(STAFF_PASSWORD)
        admin.get_by_role("button", name="Log in").click()
        admin.locator("tr.model-payment th a").click()
        row = admin.locator("#result_list tbody tr", has_text=order.number)
        expect(row).to_contain_text("Awaiting payment")
        expect(row).to_contain_text(f"€{order.total}")
        screenshot(admin, "admin-payments")
        row.locator("input.action-select").check()
        admin.locator("select[name=action]").select_option(label="Confirm manual payment received")
        admin.get_by_role("button", name="Go").click()
        expect(admin.locator(".messagelist .success")).to_have_text(
            "1 payment(s) confirmed; their orders are paid."
        )
        expect(row).to_contain_text("Succeeded")
        screenshot(admin, "admin-payment-confirmed")
    finally:
        staff_context.close()


def test_card_page_carries_the_payment_intent_and_says_when_stripe_js_cannot_load(
    page: Page,
    shop: str,
    stripe_api,  # noqa: F811  (imported above so that pytest finds it)
    screenshot,
):
    """With Stripe keys set, choosing "Card" opens a PaymentIntent and the card page carries
    what Stripe.js needs: the publishable key, the intent's client secret, the return address.

    Stripe.js must load from js.stripe.com, which this machine cannot reach, so the card form
    itself (the Payment Element, confirmPayment) cannot run here. The requests are blocked
    outright, which makes the outcome immediate: the page must then tell the shopper the form
    could not load, instead of showing "Loading…" forever.
    """
    blocked = []

    def block(route) -> None:
        blocked.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^https://js\.stripe\.com/"), block)
    order = place_member_order(page, shop)

    page.get_by_role("link", name="Pay now").click()
    expect(page.get_by_role("radio")).to_have_count(2)
    screenshot(page, "pay-methods")
    page.get_by_role("radio", name=re.compile(r"^Card\b")).check()
    page.get_by_role("button", name="Continue").click()

    total = f"€{order.total}"
    expect(page.get_by_role("heading", name=f"Pay {total} by card")).to_be_visible()
    payment = Payment.objects.get(order=order)
    assert (payment.provider, payment.status, payment.amount) == (
        Payment.Provider.STRIPE,
        Payment.Status.PENDING,
        order.total,
    )
    assert payment.reference.startswith("pi_")

    form = page.locator("#payment-form")
    expect(page.locator("#payment-element")).to_be_attached()
    expect(form).to_have_attribute("data-publishable-key", stripe_api.public_key)
    expect(form).to_have_attribute(
        "data-client-secret", re.compile(rf"^{re.escape(payment.reference)}_secret_\w+$")
    )
    expect(form).to_have_attribute("data-return-url", f"{shop}/orders/{order.number}/pay/done/")
    assert stripe_api.secret_key not in page.content()

    # The intent exists at "Stripe" for the order's total, and its secret is the page's.
    intent = stripe.PaymentIntent.retrieve(payment.reference)
    assert (intent.amount, intent.currency) == (to_minor(order.total, order.currency), "eur")
    assert intent.metadata["order"] == order.number
    assert form.get_attribute("data-client-secret") == intent.client_secret

    expect(page.get_by_role("alert")).to_have_text(CARD_FORM_FAILED)
    expect(page.get_by_text("Loading the secure card form")).to_have_count(0)
    expect(page.get_by_role("button", name=f"Pay {total}")).to_be_disabled()
    expect(page.get_by_role("link", name="Choose another way")).to_be_visible()
    assert blocked, "the page did not ask for Stripe.js"
    assert all(url.startswith("https://js.stripe.com/") for url in blocked)
    assert_fits_a_phone(page)
    screenshot(page, "card-form-unavailable-phone")


def test_staff_confirm_a_manual_payment_and_the_shopper_sees_the_order_paid(
    page: Page, browser: Browser, shop: str, screenshot
):
    order = place_member_order(page, shop)
    payment = pay_manually(page, order, screenshot)

    confirm_in_admin(browser, shop, order, screenshot)

    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.amount_received) == (Payment.Status.SUCCEEDED, order.total)
    assert order.status == Order.Status.PAID
    (receipt,) = [m for m in mail.outbox if "payment received" in m.subject]
    assert receipt.to == [order.email]
    assert order.number in receipt.subject

    page.reload()
    expect(page.get_by_text("We have received your payment: thank you!")).to_be_visible()
    page.get_by_role("link", name="View your order").click()
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    expect(page.locator(".page-header .status")).to_have_text("Paid")
    expect(page.get_by_role("link", name="Pay now")).to_have_count(0)
    assert_fits_a_phone(page)
    screenshot(page, "order-paid-phone")

    # Then one item turns out broken: the shopper asks for that part back.
    page.get_by_role("link", name="ask for a refund").click()
    line = order.lines.get()
    page.get_by_label(line.product_name).fill("1")
    page.get_by_label("Reason").fill("One cutter arrived with a chipped blade.")
    assert_fits_a_phone(page)
    screenshot(page, "refund-request-phone")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_text("Thank you: we have your request")).to_be_visible()
    refund = order.refunds.get()
    assert (refund.status, refund.amount) == ("requested", line.unit_price)
