"""Staff make a 3D model in the admin: the photos of a walk around the product are uploaded at
once, the job runs on a real worker while its page shows the progress, and the product page then
turns the model in its viewer."""

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from catalog.models import ProductModel3D
from catalog.tests.factories import ProductFactory, VariantFactory
from pipeline.models import CaptureJob
from pipeline.tests.conftest import twelve_photos  # noqa: F401  (the synthetic photo set)
from tests.browser.test_checkout import shop_site  # noqa: F401  (serves the uploaded media)
from tests.test_worker import redis_worker_for

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PASSWORD = "Bald-Cypress-Keeper-3"


def test_staff_upload_photos_and_the_product_page_shows_the_model(
    page: Page,
    shop_site: str,  # noqa: F811
    settings,
    twelve_photos,  # noqa: F811
    screenshot,
):
    product = ProductFactory(name="Bald cypress", slug="bald-cypress")
    VariantFactory(product=product)
    UserFactory(email="staff@example.com", raw_password=PASSWORD, is_staff=True, is_superuser=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{shop_site}/admin/")
    page.locator("#id_username").fill("staff@example.com")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    with redis_worker_for(settings, ["pipeline"]):
        page.goto(f"{shop_site}/admin/catalog/product/{product.pk}/change/")
        page.get_by_role("link", name="Make a 3D model from photos").click()
        expect(page.get_by_role("heading", name="Make a 3D model from photos")).to_be_visible()
        expect(page.locator("#id_product option[selected]")).to_have_text("Bald cypress")
        page.locator("#id_photos").set_input_files([str(path) for path in twelve_photos])
        screenshot(page, "upload-form")
        page.get_by_role("button", name="Upload and make the model").click()

        expect(page.locator(".messagelist .success")).to_have_text(
            "12 photos uploaded: the 3D model is being made. This page shows its progress."
        )
        job = CaptureJob.objects.get()
        assert job.product_id == product.pk
        screenshot(page, "job-page")
        # The page reloads itself every few seconds until the job is over.
        expect(page.locator(".field-status .readonly")).to_have_text("Succeeded", timeout=180_000)

    screenshot(page, "job-succeeded")
    viewer = page.locator("model-viewer.capture-result")
    expect(viewer).to_be_attached()
    model = ProductModel3D.objects.get(product=product, is_active=True)
    job.refresh_from_db()
    assert (job.model_3d, job.registered >= 10, job.points >= 1000) == (model, True, True)

    page.goto(f"{shop_site}/products/bald-cypress/")
    gallery_model = page.locator("model-viewer.gallery__model")
    expect(gallery_model).to_have_attribute("src", model.file.url)
    assert page.request.get(f"{shop_site}{model.file.url}").body()[:4] == b"glTF"
    screenshot(page, "product-page-with-model")
