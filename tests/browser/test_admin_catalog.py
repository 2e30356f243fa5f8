"""Staff run the shop from the admin: a product with two variants, published, stock received,
then seen by a shopper on the product page."""

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from catalog.models import Product, StockMovement
from catalog.tests.factories import CategoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Black-Pine-Keeper-7"


def test_staff_create_publish_and_stock_a_product_that_shoppers_then_see(
    page: Page, site, screenshot
):
    UserFactory(email="staff@example.com", raw_password=PASSWORD, is_staff=True, is_superuser=True)
    CategoryFactory(name="Pines", slug="pines")

    page.goto(f"{site}/admin/")
    page.locator("#id_username").fill("staff@example.com")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The catalogue's own "Products" (dj-stripe's admin lists Stripe's products too).
    expect(
        page.locator(".app-catalog").get_by_role("link", name="Products", exact=True)
    ).to_be_visible()
    screenshot(page, "admin-home")

    # A new product shows one variant row; "Add another" gives the second.
    page.goto(f"{site}/admin/catalog/product/add/")
    page.locator("#id_name").fill("Black pine")
    page.locator("#id_description").click()
    expect(page.locator("#id_slug")).to_have_value("black-pine")
    page.locator("#id_category").select_option(label="Pines")
    page.locator("#id_description").fill("Japanese black pine, ten years old.")
    expect(page.locator("#variants-group tbody tr.form-row:not(.empty-form)")).to_have_count(1)
    page.locator("#id_variants-0-sku").fill("PINE-S")
    page.locator("#id_variants-0-name").fill("Small")
    page.locator("#id_variants-0-options").fill("size=S")
    page.locator("#id_variants-0-price").fill("45.00")
    page.locator("#id_variants-0-initial_stock").fill("3")
    page.locator("#variants-group .add-row a").click()
    page.locator("#id_variants-1-sku").fill("PINE-L")
    page.locator("#id_variants-1-name").fill("Large")
    page.locator("#id_variants-1-options").fill("size=L")
    page.locator("#id_variants-1-price").fill("120.00")
    screenshot(page, "product-form")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("Black pine")
    screenshot(page, "product-saved")

    product = Product.objects.get(slug="black-pine")
    assert product.status == Product.Status.DRAFT
    assert list(product.variants.values_list("sku", "stock")) == [("PINE-S", 3), ("PINE-L", 0)]

    # Publish it with the list action.
    row = page.locator("#result_list tbody tr", has_text="Black pine")
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label="Publish selected products")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 product published.")
    screenshot(page, "published")
    product.refresh_from_db()
    assert product.status == Product.Status.PUBLISHED

    # Receive a delivery of the large size through the stock action.
    page.goto(f"{site}/admin/catalog/productvariant/?q=PINE-L")
    page.locator("#result_list tbody tr", has_text="PINE-L").locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label="Receive or correct stock")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", name="Receive or correct stock")).to_be_visible()
    page.get_by_label("Receive stock (add the quantity)").check()
    page.get_by_role("spinbutton", name="Quantity").fill("6")
    page.get_by_label("Reason / note").fill("Delivery DN-204")
    screenshot(page, "stock-form")
    page.get_by_role("button", name="Apply to 1 variant").click()
    expect(page.locator(".messagelist")).to_contain_text("Stock updated for 1 variant")
    screenshot(page, "stock-received")

    assert list(
        StockMovement.objects.order_by("pk").values_list("variant__sku", "delta", "reason", "note")
    ) == [
        ("PINE-S", 3, "restock", "Initial stock"),
        ("PINE-L", 6, "restock", "Delivery DN-204"),
    ]

    # A shopper (a fresh, signed-out browser context) finds the published product.
    shopper = page.context.browser.new_context()
    try:
        shop_page = shopper.new_page()
        shop_page.goto(f"{site}/products/black-pine/")
        expect(shop_page.get_by_role("heading", name="Black pine", level=1)).to_be_visible()
        screenshot(shop_page, "shop-product-page")
    finally:
        shopper.close()
