"""Reading a bought e-book on a phone: the place is saved while reading and the book reopens
there."""

import json

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from downloads.models import ReadingProgress
from downloads.tests.factories import buy, chapters, digital_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "reader@example.com"
PASSWORD = "Japanese-Maple-31"
PHONE = {"width": 375, "height": 740}
TARGET = 20  # the block to read up to: "Paragraph 20" (block 0 is the chapter's heading)


def log_in(page: Page, site: str) -> None:
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def in_viewport(page: Page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect();"
        " return r.bottom > 0 && r.top < window.innerHeight; }",
    )


def is_progress_put(response, minimum: int) -> bool:
    request = response.request
    if request.method != "PUT" or not request.url.endswith("/progress"):
        return False
    return json.loads(request.post_data or "{}").get("position", -1) >= minimum


def read_down_to(page: Page, member, book, *, chapter: int, target: int = TARGET) -> int:
    """Scroll the open chapter until block `target` reaches the top of the screen, wait for the
    place to be saved and return the saved block."""
    with page.expect_response(lambda r: is_progress_put(r, target - 1)) as saved:
        page.evaluate(f"document.getElementById('block-{target}').scrollIntoView()")
        page.mouse.wheel(0, 1)  # a real scroll event, as a finger makes
    assert saved.value.status == 200
    progress = ReadingProgress.objects.get(user=member, product=book)
    assert progress.chapter.position == chapter
    assert progress.position >= target - 1
    return progress.position


def test_a_reader_comes_back_to_the_paragraph_where_they_stopped(page: Page, site, screenshot):
    member = UserFactory(email=EMAIL, raw_password=PASSWORD)
    book = digital_product(name="The bonsai year")
    chapters(book, count=3, paragraphs=40)
    buy(book, user=member)
    page.set_viewport_size(PHONE)
    log_in(page, site)

    page.goto(f"{site}/account/ebooks/{book.pk}/2/")
    expect(page.get_by_role("heading", level=1, name="Chapter 2")).to_be_visible()
    expect(page.get_by_role("link", name="Chapter 2")).to_have_attribute("aria-current", "page")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"the reader scrolls sideways ({scroll_width}px)"
    screenshot(page, "chapter-on-a-phone")

    # Read down to a paragraph: it reaches the top of the screen and the place is saved.
    paragraph = page.locator(f"#block-{TARGET}")
    block = read_down_to(page, member, book, chapter=2)
    expect(page.locator("[data-reader-percent]")).not_to_have_text("33")
    screenshot(page, "reading")

    # Leave for the downloads page, then come back through the book's link.
    page.get_by_role("link", name="My downloads").click()
    expect(page.get_by_role("heading", name="My downloads")).to_be_visible()
    screenshot(page, "my-downloads")
    page.get_by_role("link", name="Read online").click()

    expect(page).to_have_url(f"{site}/account/ebooks/{book.pk}/2/#block-{block}")
    expect(paragraph).to_be_visible()
    page.wait_for_function("window.scrollY > 0")
    assert in_viewport(page, f"#block-{block}")
    assert not in_viewport(page, "#chapter-title")
    assert page.evaluate("window.scrollY") > 1000
    screenshot(page, "back-where-i-stopped")


def test_without_javascript_the_book_still_reads_and_opens_at_the_saved_block(
    browser, site, screenshot
):
    member = UserFactory(email=EMAIL, raw_password=PASSWORD)
    book = digital_product(name="The bonsai year")
    chapters(book, count=2, paragraphs=40)
    buy(book, user=member)
    ReadingProgress.objects.create(
        user=member, product=book, chapter=book.chapters.get(position=2), position=TARGET
    )
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        log_in(page, site)
        page.goto(f"{site}/account/ebooks/{book.pk}/")

        expect(page).to_have_url(f"{site}/account/ebooks/{book.pk}/2/#block-{TARGET}")
        assert in_viewport(page, f"#block-{TARGET}")
        assert page.evaluate("window.scrollY") > 1000
        page.get_by_role("link", name="Previous").click()
        expect(page.get_by_role("heading", level=1, name="Chapter 1")).to_be_visible()
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= PHONE["width"]
        screenshot(page, "chapter-without-javascript")
    finally:
        context.close()
