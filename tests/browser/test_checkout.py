"""Buying in a real browser: a member from product pages to the order history, and a guest from
the cart to the emailed link that confirms their address; both then choose to pay manually."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.urls import re_path
from django.views.static import serve
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from catalog.models import Product
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
)
from config import urls as site_urls
from orders.models import Order
from orders.tests.factories import DiscountCodeFactory, ShippingMethodFactory
from payments.models import Payment
from tests.browser.test_shop import picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Japanese-Maple-31"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}

# The site's pages plus the uploaded pictures, which the live server does not serve by itself.
urlpatterns = [
    *site_urls.urlpatterns,
    re_path(r"^media/(?P<path>.*)$", lambda r, path: serve(r, path, settings.MEDIA_ROOT)),
]
handler404 = site_urls.handler404
handler500 = site_urls.handler500


@pytest.fixture
def shop_site(site, settings):
    settings.ROOT_URLCONF = __name__
    return site


def stock_shop() -> dict[str, Product]:
    trees = CategoryFactory(name="Bonsai trees", slug="bonsai-trees")
    tools = CategoryFactory(name="Tools & care", slug="tools")
    juniper = ProductFactory(name="Shimpaku juniper", slug="shimpaku-juniper", category=trees)
    VariantFactory(product=juniper, name="Small (15 cm)", price=Decimal("39.00"), stock=12)
    VariantFactory(product=juniper, name="Large (30 cm)", price=Decimal("89.00"), stock=2)
    ProductImageFactory(product=juniper, image=picture("#2f6b45"), alt_text="Shimpaku juniper")
    cutter = ProductFactory(name="Concave cutter", slug="concave-cutter", category=tools)
    VariantFactory(product=cutter, name="", price=Decimal("24.50"), stock=30)
    ProductImageFactory(
        product=cutter, image=picture("#4f5b53", pot="#1f2a22"), alt_text="Concave cutter"
    )
    ShippingMethodFactory(
        name="Standard",
        description="2–4 working days",
        fee=Decimal("4.90"),
        free_above=Decimal("150.00"),
        position=0,
    )
    ShippingMethodFactory(
        name="Express",
        description="Next working day",
        fee=Decimal("9.90"),
        free_above=None,
        position=1,
    )
    return {"juniper": juniper, "cutter": cutter}


def add_to_cart(page: Page, site: str, slug: str, quantity: int = 1, screenshot=None) -> None:
    page.goto(f"{site}/products/{slug}/")
    page.get_by_label("Quantity").fill(str(quantity))
    if screenshot:
        screenshot(page, f"product-{slug}")
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{site}/cart/")


def assert_fits_a_phone(page: Page) -> None:
    """Nothing sticks out sideways at 375 px."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a phone"


def fill_address(page: Page) -> None:
    page.get_by_label("Full name").fill("Ada Maple")
    page.get_by_label("Address line 1").fill("1 Garden Row")
    page.get_by_label("Postal code").fill("N1 9GU")
    page.get_by_label("City").fill("London")
    page.get_by_label("Country").select_option("GB")


def pay_manually(page: Page, order: Order, screenshot) -> Payment:
    """From an order page: "Pay now", the manual method, and its confirmation page (at 375 px)."""
    page.get_by_role("link", name="Pay now").click()
    expect(page.get_by_role("heading", name=f"Pay order {order.number}")).to_be_visible()
    page.get_by_role("radio", name="Bank transfer or pay on pickup").check()
    assert_fits_a_phone(page)
    screenshot(page, "pay-methods-phone")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/pay/manual/$"))
    total = f"€{order.total}"
    expect(page.get_by_role("heading", name=f"Almost done: please pay {total}")).to_be_visible()
    expect(page.get_by_text(settings.MANUAL_PAYMENT_INSTRUCTIONS)).to_be_visible()
    expect(page.locator("dt:text-is('Amount') + dd")).to_have_text(total)
    expect(page.locator("dt:text-is('Reference') + dd")).to_have_text(order.number)
    assert_fits_a_phone(page)
    screenshot(page, "manual-payment-phone")

    payment = Payment.objects.get(order=order)
    assert (payment.provider, payment.status, payment.amount, payment.currency) == (
        Payment.Provider.MANUAL,
        Payment.Status.PENDING,
        order.total,
        order.currency,
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    return payment


def test_member_buys_two_items_and_finds_the_order_in_the_history(
    page: Page, shop_site, screenshot
):
    stock_shop()
    user = UserFactory(email="ada@example.com", raw_password=PASSWORD)
    page.set_viewport_size(DESKTOP)

    page.goto(f"{shop_site}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    add_to_cart(page, shop_site, "shimpaku-juniper", screenshot=screenshot)
    expect(page.get_by_text("Added Shimpaku juniper (Small (15 cm)) to your cart.")).to_be_visible()
    screenshot(page, "first-item-added")
    add_to_cart(page, shop_site, "concave-cutter")
    expect(page.locator("#cart-count")).to_contain_text("2")
    expect(page.locator("#cart-subtotal")).to_have_text("€63.50")
    screenshot(page, "cart")

    # htmx: the quantity changes in place; the page is not loaded again.
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Quantity of Concave cutter").fill("3")
    page.get_by_role("button", name="Update the quantity of Concave cutter").click()
    expect(page.locator("#cart-subtotal")).to_have_text("€112.50")
    expect(page.locator("#cart-count")).to_contain_text("4")
    expect(page.locator("#cart-status")).to_contain_text("Concave cutter: quantity changed to 3.")
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "quantity-changed")

    assert_fits_a_phone(page)
    screenshot(page, "cart-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_role("link", name="Go to checkout").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(user.email)
    expect(page.locator("#checkout-total")).to_have_text("€117.40")
    fill_address(page)
    page.get_by_role("radio", name=re.compile("Express")).check()
    expect(page.locator("#checkout-total")).to_have_text("€122.40")
    screenshot(page, "checkout")
    assert_fits_a_phone(page)
    screenshot(page, "checkout-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    order = Order.objects.get()
    assert (order.user_id, order.total, order.shipping_method_name) == (
        user.pk,
        Decimal("122.40"),
        "Express",
    )
    assert order.ship_city == "London"
    expect(page.get_by_text(order.number).first).to_be_visible()
    expect(page.locator("#cart-count")).to_be_hidden()
    screenshot(page, "confirmation")

    page.goto(f"{shop_site}/account/orders/")
    expect(page.get_by_role("link", name=f"Order {order.number}")).to_be_visible()
    screenshot(page, "order-history")
    page.get_by_role("link", name=f"Order {order.number}").click()
    expect(page.get_by_text("1 Garden Row")).to_be_visible()
    expect(page.get_by_text("Awaiting payment").first).to_be_visible()
    screenshot(page, "order-detail")
    assert_fits_a_phone(page)
    screenshot(page, "order-detail-phone")

    pay_manually(page, order, screenshot)
    expect(page.get_by_text(user.email)).to_be_visible()


def test_guest_checks_out_and_confirms_the_email_from_the_link(page: Page, shop_site, screenshot):
    stock_shop()
    page.set_viewport_size(PHONE)

    add_to_cart(page, shop_site, "concave-cutter", quantity=2, screenshot=screenshot)
    expect(page.locator("#cart-subtotal")).to_have_text("€49.00")
    screenshot(page, "cart")

    page.get_by_role("link", name="Go to checkout").click()
    page.get_by_label("Email").fill("guest@example.com")
    fill_address(page)
    expect(page.locator("#checkout-total")).to_have_text("€53.90")

    # The discount code is checked and the totals re-priced in place.
    DiscountCodeFactory(code="SPRING10", value=Decimal("10"))
    page.get_by_label("Discount code").fill("nope")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("This code does not exist.")).to_be_visible()
    page.get_by_label("Discount code").fill("spring10")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#checkout-discount")).to_have_text("−€4.90")
    expect(page.locator("#checkout-total")).to_have_text("€49.00")
    expect(page.get_by_label("Email")).to_have_value("guest@example.com")
    assert_fits_a_phone(page)
    screenshot(page, "checkout")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    expect(
        page.get_by_text(
            "We sent a link to guest@example.com: open it to confirm your email, then you can pay."
        )
    ).to_be_visible()
    assert_fits_a_phone(page)
    screenshot(page, "confirmation")
    order = Order.objects.get()
    assert order.is_guest
    assert (order.discount_code, order.total) == ("SPRING10", Decimal("49.00"))
    assert order.email_verified_at is None

    (message,) = [m for m in mail.outbox if m.to == ["guest@example.com"]]
    link = re.search(rf"{re.escape(shop_site)}/orders/guest/\S+/", message.body).group(0)
    page.goto(link)
    expect(page.get_by_text("Email confirmed")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    assert_fits_a_phone(page)
    screenshot(page, "email-confirmed")
    order.refresh_from_db()
    assert order.email_verified_at is not None

    pay_manually(page, order, screenshot)
    expect(page.get_by_text("guest@example.com")).to_be_visible()
