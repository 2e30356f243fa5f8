"""A capture job on a real Celery worker: sent through Redis to the `pipeline` queue (the only
queue this worker reads), run there, and followed through the API until its model is shown."""

import time

import pytest
from django.urls import reverse

from catalog.models import ProductModel3D
from catalog.tests.factories import ProductFactory, VariantFactory
from pipeline.tests.conftest import files_from
from tests.test_worker import redis_worker_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_the_pipeline_worker_runs_an_uploaded_job(settings, staff_api_client, twelve_photos):
    product = ProductFactory(name="Trident maple")
    VariantFactory(product=product)

    with redis_worker_for(settings, ["pipeline"]):
        response = staff_api_client.post(
            reverse("api:pipeline-upload"),
            {"photos": files_from(twelve_photos), "product": product.pk},
            format="multipart",
        )
        assert response.status_code == 202, response.json()
        assert response.json()["status"] == "queued", "the request must not run the job itself"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            body = staff_api_client.get(response["Location"]).json()
            if body["status"] in {"succeeded", "failed", "cancelled"}:
                break
            time.sleep(0.2)

    assert body["status"] == "succeeded", body
    assert body["registered"] >= 10
    assert body["points"] >= 1000
    assert body["links"]["model"]
    assert ProductModel3D.objects.get(product=product, is_active=True).file.name.endswith(".glb")
