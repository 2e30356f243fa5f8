"""A digital product from purchase to reading, in a real browser: a member buys an e-book with its
PDF, pays by bank transfer, staff confirm the payment in the admin, and the member downloads the
file, reads a chapter, leaves and comes back to the paragraph where they stopped."""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.tests.factories import UserFactory
from downloads.models import DownloadEvent, Entitlement
from downloads.tests.factories import PDF, asset, chapters, digital_product
from orders.models import Order
from tests.browser.test_checkout import add_to_cart, assert_fits_a_phone, pay_manually
from tests.browser.test_ebook_reader import PHONE, in_viewport, log_in, read_down_to
from tests.browser.test_payments import confirm_in_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "reader@example.com"
PASSWORD = "Japanese-Maple-31"


def test_a_member_buys_an_ebook_downloads_it_and_reads_on_where_they_stopped(
    page: Page, browser: Browser, site: str, screenshot
):
    member = UserFactory(email=EMAIL, raw_password=PASSWORD)
    book = digital_product(name="The bonsai year", slug="the-bonsai-year", price="12.00")
    asset(book, filename="the-bonsai-year.pdf", title="The book (PDF)")
    chapters(book, count=3, paragraphs=40)
    page.set_viewport_size(PHONE)
    log_in(page, site)

    # Buy: a download needs no address and no shipping method.
    add_to_cart(page, site, book.slug)
    page.get_by_role("link", name="Go to checkout").click()
    expect(page.get_by_text("nothing to ship, no address needed")).to_be_visible()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    order = Order.objects.get(user=member)
    page.get_by_role("link", name="View your order").click()
    pay_manually(page, order, screenshot)

    # Nothing to download before the money is in.
    page.goto(f"{site}/account/downloads/")
    expect(page.get_by_text("Nothing to download yet")).to_be_visible()
    assert not Entitlement.objects.exists()

    confirm_in_admin(browser, site, order, screenshot)

    # Paid, a downloads-only order is delivered at once; its page points to the files, and
    # "My downloads" lists them with the downloads left.
    page.goto(f"{site}{order.get_absolute_url()}")
    expect(page.locator(".page-header .status")).to_have_text("Delivered")
    page.get_by_role("link", name="Go to my downloads").click()
    expect(page.get_by_role("heading", name="My downloads")).to_be_visible()
    expect(page.get_by_role("link", name="Downloads")).to_have_attribute("aria-current", "page")
    item = page.locator(".downloads__item", has_text="The bonsai year")
    expect(item).to_contain_text(f"Order {order.number}")
    expect(item.locator(".downloads__left")).to_have_text("3 of 3 downloads left")
    expect(item).to_contain_text("the-bonsai-year.pdf")
    assert_fits_a_phone(page)
    screenshot(page, "my-downloads-phone")

    with page.expect_download() as started:
        item.get_by_role("link", name="Download").click()
    download = started.value
    assert download.failure() is None
    assert download.suggested_filename == "the-bonsai-year.pdf"
    assert Path(download.path()).read_bytes() == PDF
    entitlement = Entitlement.objects.get(order_line__order=order)
    assert (entitlement.user_id, entitlement.downloads_used) == (member.pk, 1)
    assert DownloadEvent.objects.filter(entitlement=entitlement).count() == 1
    page.reload()
    expect(item.locator(".downloads__left")).to_have_text("2 of 3 downloads left")

    # Read chapter 2 down to a paragraph; the place is saved as the page scrolls.
    item.get_by_role("link", name="Read online").click()
    expect(page.get_by_role("heading", level=1, name="Chapter 1")).to_be_visible()
    page.locator("a[rel=next]").click()  # "Next → Chapter 2", at the foot of the chapter
    expect(page.get_by_role("heading", level=1, name="Chapter 2")).to_be_visible()
    block = read_down_to(page, member, book, chapter=2)
    screenshot(page, "reading-chapter-2")

    # Leave the book for the order history, come back through "My downloads": it opens there.
    page.get_by_role("link", name="My downloads").click()
    page.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("link", name=order.number)).to_be_visible()
    page.get_by_role("link", name="Downloads").click()
    page.locator(".downloads__item", has_text="The bonsai year").get_by_role(
        "link", name="Read online"
    ).click()
    expect(page).to_have_url(f"{site}/account/ebooks/{book.pk}/2/#block-{block}")
    expect(page.locator(f"#block-{block}")).to_be_visible()
    page.wait_for_function("window.scrollY > 0")
    assert in_viewport(page, f"#block-{block}")
    assert not in_viewport(page, "#chapter-title")
    screenshot(page, "back-where-i-stopped")
