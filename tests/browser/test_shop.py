"""Shopping in a real browser: from the home page to a category, a filter, a product, a variant."""

import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import re_path
from django.views.static import serve
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from catalog.models import Product
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
)
from config import urls as site_urls

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The site's pages plus the uploaded pictures, which the live server does not serve by itself
# (production serves them from object storage).
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


def picture(leaves: str, pot: str = "#9c6b3f", background: str = "#eef3ea") -> SimpleUploadedFile:
    """A small drawing of a potted plant, so the pages show pictures as a shop would."""
    image = Image.new("RGB", (600, 600), background)
    draw = ImageDraw.Draw(image)
    draw.polygon([(280, 470), (320, 470), (335, 250), (300, 240)], fill="#6b4a2f")
    for box in [(120, 170, 330, 300), (240, 90, 480, 250), (330, 220, 500, 320)]:
        draw.ellipse(box, fill=leaves)
    draw.polygon([(150, 460), (450, 460), (420, 540), (180, 540)], fill=pot)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile("plant.jpg", buffer.getvalue(), content_type="image/jpeg")


def stock_shop() -> Product:
    """A small shop; returns the juniper, whose two sizes differ in price and stock."""
    bonsai = CategoryFactory(
        name="Bonsai trees",
        slug="bonsai-trees",
        position=1,
        description="Young trees, grown slowly and shipped with care instructions.",
    )
    junipers = CategoryFactory(name="Junipers", slug="junipers", parent=bonsai)
    maples = CategoryFactory(name="Maples", slug="maples", parent=bonsai)
    tools = CategoryFactory(
        name="Tools & care", slug="tools", position=2, description="Shears, wire and soil."
    )
    CategoryFactory(name="Phone cases", slug="phone-cases", position=3)

    juniper = ProductFactory(
        name="Shimpaku juniper",
        slug="shimpaku-juniper",
        category=junipers,
        is_featured=True,
        description="A hardy juniper with fine, bright foliage. Likes sun and wind.",
        tags=["juniper", "outdoor"],
    )
    VariantFactory(product=juniper, name="Small (15 cm)", price=Decimal("39.00"), stock=12)
    VariantFactory(
        product=juniper,
        name="Large (30 cm)",
        price=Decimal("89.00"),
        compare_at_price=Decimal("99.00"),
        stock=2,
        low_stock_threshold=3,
    )
    ProductImageFactory(product=juniper, image=picture("#2f6b45"), alt_text="Shimpaku juniper")
    ProductImageFactory(product=juniper, image=picture("#3f7f55", background="#f3e9dc"))

    maple = ProductFactory(
        name="Japanese maple", slug="japanese-maple", category=maples, is_featured=True
    )
    VariantFactory(product=maple, price=Decimal("59.00"), stock=5)
    ProductImageFactory(product=maple, image=picture("#a63a32"), alt_text="Japanese maple")

    trident = ProductFactory(name="Trident maple", slug="trident-maple", category=maples)
    VariantFactory(product=trident, price=Decimal("120.00"), stock=0)
    ProductImageFactory(product=trident, image=picture("#b45309"), alt_text="Trident maple")

    shears = ProductFactory(
        name="Concave cutter", slug="concave-cutter", category=tools, is_featured=True
    )
    VariantFactory(product=shears, price=Decimal("24.50"), stock=30)
    ProductImageFactory(
        product=shears, image=picture("#4f5b53", pot="#1f2a22"), alt_text="Concave cutter"
    )
    ProductFactory(name="Hidden draft", category=bonsai, status=Product.Status.DRAFT, variants=1)
    return juniper


def test_browse_filter_open_a_product_and_choose_a_variant(page: Page, shop_site, screenshot):
    juniper = stock_shop()

    page.goto(shop_site)
    expect(page.get_by_role("heading", name="Featured")).to_be_visible()
    expect(page.get_by_role("link", name="Shimpaku juniper")).to_be_visible()
    expect(page.get_by_text("Hidden draft")).to_have_count(0)
    screenshot(page, "home")

    page.get_by_role("link", name="Bonsai trees").click()
    expect(page).to_have_url(f"{shop_site}/shop/bonsai-trees/")
    expect(page.get_by_role("heading", level=1, name="Bonsai trees")).to_be_visible()
    expect(page.get_by_role("link", name="Junipers")).to_be_visible()
    expect(page.get_by_role("link", name="Trident maple")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("3 products")
    screenshot(page, "category")

    # The sold-out maple goes once only what is in stock is asked for.
    page.get_by_text("Filter and sort").click()
    page.get_by_label("In stock only").check()
    page.get_by_label("Sort by").select_option("price")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_have_text("2 products")
    expect(page.get_by_role("link", name="Trident maple")).to_have_count(0)
    cards = page.locator(".product-card__title")
    expect(cards).to_have_text(["Shimpaku juniper", "Japanese maple"])  # from €39, then €59
    screenshot(page, "filtered")

    page.get_by_role("link", name="Shimpaku juniper").click()
    expect(page).to_have_url(f"{shop_site}{juniper.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Shimpaku juniper")
    price = page.locator(".product-info__buy .price__now")
    stock = page.locator(".product-info__buy .stock")
    expect(price).to_have_text("€39.00")
    expect(stock).to_have_text("In stock")
    screenshot(page, "product")

    page.get_by_role("link", name="Large (30 cm)").click()
    expect(price).to_have_text("€89.00")
    expect(page.locator(".product-info__buy .price__was")).to_have_text("was €99.00")
    expect(stock).to_have_text("Only 2 left")
    expect(page.get_by_role("link", name="Large (30 cm)")).to_have_attribute("aria-current", "true")
    screenshot(page, "variant")

    # The pictures are real WebP files served to the browser.
    loaded = page.eval_on_selector(".gallery__main img", "img => img.naturalWidth")
    assert loaded > 0


def test_shop_pages_fit_a_phone_screen(page: Page, shop_site, screenshot):
    juniper = stock_shop()
    page.set_viewport_size({"width": 375, "height": 740})
    for name, path in [
        ("home", "/"),
        ("all-products", "/shop/"),
        ("category", "/shop/bonsai-trees/"),
        ("filtered", "/shop/bonsai-trees/?in_stock=true&min_price=100&max_price=10"),
        ("search", "/search/?q=maple"),
        ("product", juniper.get_absolute_url()),
    ]:
        page.goto(shop_site + path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 375, f"{path} scrolls sideways on a phone ({scroll_width}px)"
        screenshot(page, f"phone-{name}")
