"""A first visit in a real browser: register, verify, log out, log in, change password."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "maple@example.com"
FIRST_PASSWORD = "Japanese-Maple-31"
NEW_PASSWORD = "Trident-Maple-58"


def log_in(page: Page, site: str, password: str) -> None:
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_register_verify_log_out_log_in_and_change_password(page: Page, site, screenshot):
    page.goto(site)
    screenshot(page, "home")
    page.get_by_role("link", name="Create account").first.click()
    expect(page).to_have_url(f"{site}/accounts/register/")

    # A mismatched confirmation is refused next to the field, and nothing is created.
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Full name").fill("Ada Maple")
    page.get_by_label("Password", exact=True).fill(FIRST_PASSWORD)
    page.get_by_label("Password again").fill("something-else-entirely")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("The two passwords are not the same.")).to_be_visible()
    screenshot(page, "register-error")
    assert not User.objects.filter(email=EMAIL).exists()

    page.get_by_label("Password", exact=True).fill(FIRST_PASSWORD)
    page.get_by_label("Password again").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{site}/accounts/")
    expect(page.get_by_role("button", name="Send the link again")).to_be_visible()
    screenshot(page, "registered")
    user = User.objects.get(email=EMAIL)
    assert user.full_name == "Ada Maple"
    assert not user.is_verified

    # The verification link arrives by email and works in the browser.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [EMAIL]
    link = re.search(rf"{re.escape(site)}/accounts/verify/\S+", mail.outbox[0].body).group(0)
    page.goto(link)
    expect(page.get_by_role("button", name="Send the link again")).to_have_count(0)
    screenshot(page, "verified")
    user.refresh_from_db()
    assert user.is_verified

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()
    screenshot(page, "logged-out")

    log_in(page, site, "Wrong-Password-00")
    expect(page.get_by_role("alert")).to_be_visible()
    screenshot(page, "login-error")
    log_in(page, site, FIRST_PASSWORD)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    screenshot(page, "logged-in")

    page.goto(f"{site}/accounts/password/")
    page.get_by_label("Old password").fill(FIRST_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_be_visible()
    screenshot(page, "password-changed")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    # The session survives the change; the new password is the one that signs in afterwards.
    page.get_by_role("button", name="Log out").click()
    log_in(page, site, FIRST_PASSWORD)
    expect(page.get_by_role("alert")).to_be_visible()
    log_in(page, site, NEW_PASSWORD)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    screenshot(page, "logged-in-with-new-password")


def test_pages_fit_a_phone_screen(page: Page, site, screenshot):
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/", "/accounts/register/", "/accounts/login/"):
        page.goto(site + path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 375, f"{path} scrolls sideways on a phone ({scroll_width}px)"
        screenshot(page, "phone" + path.replace("/", "-").rstrip("-"))
