"""The pipeline's API: who may use it, what an upload must be, following a job, its results'
short links (local and on S3), cancelling and listing."""

import uuid
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import jwt
from catalog.tests.factories import ProductFactory
from downloads.storage import private_storage
from pipeline import services
from pipeline.models import CaptureJob, CapturePhoto
from pipeline.tests.conftest import image_bytes, photo, photos, png_header_only

pytestmark = pytest.mark.django_db

UPLOAD = reverse("api:pipeline-upload")
JOBS = reverse("api:pipeline-jobs")


def status_url(job) -> str:
    return reverse("api:pipeline-status", args=[job.pk])


def download_url(job, query: str = "") -> str:
    return reverse("api:pipeline-download", args=[job.pk]) + query


def private_files_under(folder: str) -> list[str]:
    storage = private_storage()
    return storage.listdir(folder)[0] if storage.exists(folder) else []


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt.tokens_for_user(user=user)['access']}")
    return client


def upload(client, files, **data):
    return client.post(UPLOAD, {"photos": files, **data}, format="multipart")


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# --- Who may use it -------------------------------------------------------------------------------


def test_shoppers_and_anonymous_callers_are_kept_out(auth_client, succeeded_job):
    anonymous = APIClient()
    for url in (UPLOAD, JOBS, status_url(succeeded_job), download_url(succeeded_job)):
        method = auth_client.post if url == UPLOAD else auth_client.get
        assert method(url).status_code == 403, url
        assert (anonymous.post if url == UPLOAD else anonymous.get)(url).status_code == 401
    response = auth_client.post(reverse("api:pipeline-cancel", args=[succeeded_job.pk]))
    assert error(response) == (403, "permission_denied")
    assert "run 3D captures" in response.json()["error"]["message"]
    assert CaptureJob.objects.count() == 1


def test_a_holder_of_the_pipeline_permission_uploads_without_being_staff(
    pipeline_user, django_capture_on_commit_callbacks
):
    product = ProductFactory(name="Shimpaku juniper")
    with django_capture_on_commit_callbacks() as queued:
        response = upload(client_for(pipeline_user), photos(3), product=product.pk)

    assert response.status_code == 202, response.json()
    body = response.json()
    job = CaptureJob.objects.get(pk=body["id"])
    assert (job.status, job.product, job.created_by) == ("queued", product, pipeline_user)
    assert (body["status"], body["photo_count"], body["product_name"]) == (
        "queued",
        3,
        "Shimpaku juniper",
    )
    assert response["Location"].endswith(status_url(job))
    assert len(queued) == 1, "the job is sent to the worker once the upload is saved"
    stored = list(job.photos.values_list("position", "original_name", "width", "height"))
    assert stored == [
        (1, "IMG_0001.jpg", 64, 48),
        (2, "IMG_0002.jpg", 64, 48),
        (3, "IMG_0003.jpg", 64, 48),
    ]
    for record in job.photos.all():
        assert private_storage().exists(record.file.name)


# --- What an upload must be -----------------------------------------------------------------------


def test_every_accepted_kind_is_recognised_by_content_not_name(staff_api_client):
    files = [
        photo("front.jpg", "JPEG"),
        photo("side.png", "PNG"),
        photo("back.webp", "WEBP"),
        SimpleUploadedFile("top.HEIC", image_bytes("HEIF"), content_type="image/heif"),
        # A PNG sent under a JPEG name is still a PNG.
        SimpleUploadedFile("misnamed.jpg", image_bytes("PNG"), content_type="image/jpeg"),
    ]
    response = upload(staff_api_client, files)

    assert response.status_code == 202, response.json()
    job = CaptureJob.objects.get()
    assert list(job.photos.values_list("content_type", flat=True)) == [
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/png",
    ]


@pytest.mark.parametrize("count", [0, 2, 31])
def test_too_few_or_too_many_photos_are_refused(staff_api_client, settings, count):
    settings.PIPELINE_MAX_PHOTOS = 30
    response = upload(staff_api_client, photos(count))

    assert error(response) == (400, "photo_count")
    assert response.json()["error"]["fields"]["photos"] == [
        f"{count} photos: between 3 and 30 are needed."
    ]
    assert not CaptureJob.objects.exists()


def test_files_that_are_not_photos_are_named_in_the_refusal(staff_api_client):
    files = [
        *photos(3),
        SimpleUploadedFile(
            "notes.jpg", b"Water the juniper on Fridays.", content_type="image/jpeg"
        ),
        SimpleUploadedFile("bomb.png", png_header_only(40_000, 40_000), content_type="image/png"),
        photo("animation.gif", "GIF"),
    ]
    stored_before = CapturePhoto.objects.count(), len(private_files_under("pipeline"))
    response = upload(staff_api_client, files)

    assert error(response) == (400, "invalid_photos")
    problems = response.json()["error"]["fields"]["photos"]
    assert problems == [
        "notes.jpg: not a JPEG, PNG, WebP or HEIC image, or a damaged or oversized one.",
        "bomb.png: not a JPEG, PNG, WebP or HEIC image, or a damaged or oversized one.",
        "animation.gif: a GIF image; send JPEG, PNG, WebP or HEIC photos.",
    ]
    assert not CaptureJob.objects.exists()
    assert (CapturePhoto.objects.count(), len(private_files_under("pipeline"))) == stored_before


def test_images_over_the_pixel_limit_are_refused_before_decoding(staff_api_client, settings):
    settings.PIPELINE_MAX_PIXELS = 2_000_000
    files = [*photos(3), SimpleUploadedFile("huge.png", png_header_only(2000, 1500))]
    response = upload(staff_api_client, files)

    assert error(response) == (400, "invalid_photos")
    assert response.json()["error"]["fields"]["photos"] == [
        "huge.png: 2000x1500 pixels is more than the 2 megapixels accepted."
    ]


def test_size_limits_per_photo_and_per_job(staff_api_client, settings):
    settings.PIPELINE_MAX_PHOTO_MB = 1
    big = photo("big.png", "PNG", size=(700, 600))  # random pixels do not compress: ~1.2 MB
    assert big.size > 1024 * 1024
    response = upload(staff_api_client, [*photos(3), big])
    assert error(response) == (400, "invalid_photos")
    assert response.json()["error"]["fields"]["photos"] == ["big.png: larger than 1 MB."]

    settings.PIPELINE_MAX_PHOTO_MB, settings.PIPELINE_MAX_JOB_MB = 2, 2
    heavy = [photo(f"{n}.png", "PNG", seed=n, size=(700, 600)) for n in range(3)]
    response = upload(staff_api_client, heavy)
    assert error(response) == (400, "photos_too_large")
    assert response.json()["error"]["fields"]["photos"] == ["At most 2 MB in all."]
    assert not CaptureJob.objects.exists()


def test_an_unknown_product_is_a_field_error(staff_api_client):
    response = upload(staff_api_client, photos(3), product=999_999)

    assert error(response) == (400, "invalid")
    assert "product" in response.json()["error"]["fields"]


def test_uploads_are_throttled(staff_api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "uploads": "2/min",
        },
    }
    codes = [upload(staff_api_client, photos(3)).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


# --- Following a job ------------------------------------------------------------------------------


def test_status_shows_the_stage_and_progress_as_the_worker_saves_them(staff_api_client):
    job = services.job_create(uploads=photos(3), user=None)
    assert staff_api_client.get(status_url(job)).json()["status"] == "queued"

    assert services._claim(job.pk)
    services._progress(job.pk, "matching", 42)
    body = staff_api_client.get(status_url(job)).json()

    assert (body["status"], body["stage"], body["stage_label"], body["percent"]) == (
        "running",
        "matching",
        "Matching photos",
        42,
    )
    assert body["attempts"] == 1
    assert body["links"]["model"] is None


def test_an_unknown_job_is_not_found(staff_api_client):
    response = staff_api_client.get(reverse("api:pipeline-status", args=[uuid.uuid4()]))
    assert response.status_code == 404


def test_cancel_a_queued_job_then_cancelling_again_conflicts(staff_api_client, staff):
    job = services.job_create(uploads=photos(3), user=staff)
    cancel = reverse("api:pipeline-cancel", args=[job.pk])

    response = staff_api_client.post(cancel)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["error_code"]) == ("cancelled", "cancelled")
    assert services.job_run(job.pk) is None, "a cancelled job never starts"

    again = staff_api_client.post(cancel)
    assert error(again) == (409, "job_finished")
    assert "already cancelled" in again.json()["error"]["message"]


def test_the_list_is_paginated_and_filtered(staff_api_client, succeeded_job):
    for _ in range(3):
        services.job_create(uploads=photos(3), user=None)

    page = staff_api_client.get(JOBS, {"page_size": 2}).json()
    assert (page["count"], len(page["results"])) == (4, 2)
    assert page["next"]
    succeeded = staff_api_client.get(JOBS, {"status": "succeeded"}).json()
    assert [row["id"] for row in succeeded["results"]] == [str(succeeded_job.pk)]


# --- Results --------------------------------------------------------------------------------------


def test_results_download_through_a_short_signed_link(staff_api_client, succeeded_job):
    response = staff_api_client.get(download_url(succeeded_job))
    assert response.status_code == 302
    file = staff_api_client.get(response["Location"])
    assert file.status_code == 200
    assert b"".join(file.streaming_content) == b"glTF-binary-model"
    assert file["Content-Type"] == "model/gltf-binary"
    assert file["Content-Disposition"].startswith("attachment;")
    assert file["Cache-Control"] == "private, no-store"

    ply = staff_api_client.get(
        staff_api_client.get(download_url(succeeded_job, "?format=ply"))["Location"]
    )
    assert b"".join(ply.streaming_content).startswith(b"ply")


def test_a_local_result_link_stops_working_after_five_minutes(
    staff_api_client, succeeded_job, monkeypatch
):
    from django.core import signing

    then = signing.time.time() - 301
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: then)
        old_link = staff_api_client.get(download_url(succeeded_job))["Location"]

    response = staff_api_client.get(old_link)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert (
        staff_api_client.get(
            staff_api_client.get(download_url(succeeded_job))["Location"]
        ).status_code
        == 200
    )


def test_on_s3_the_result_redirects_to_a_presigned_url_of_at_most_five_minutes(
    s3_private, staff_api_client, staff
):
    client, bucket = s3_private
    job = CaptureJob.objects.create(
        created_by=staff,
        max_side=1600,
        status=CaptureJob.Status.SUCCEEDED,
        product=ProductFactory(name="Trident maple"),
    )
    job.model_file.save("model.glb", SimpleUploadedFile("model.glb", b"glTF-on-s3"))

    response = staff_api_client.get(download_url(job))

    assert response.status_code == 302
    url = urlparse(response["Location"])
    query = parse_qs(url.query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert unquote(query["response-content-disposition"][0]).startswith("attachment;")
    assert f"trident-maple-{str(job.pk)[:8]}.glb" in query["response-content-disposition"][0]
    assert url.path.startswith(f"/{bucket}/pipeline/{job.pk}/results/")
    body = client.get_object(Bucket=bucket, Key=job.model_file.name)["Body"].read()
    assert body == b"glTF-on-s3"


def test_a_result_before_success_or_an_unknown_format_is_refused(staff_api_client, succeeded_job):
    queued = services.job_create(uploads=photos(3), user=None)
    assert error(staff_api_client.get(download_url(queued))) == (409, "result_not_ready")

    response = staff_api_client.get(download_url(succeeded_job, "?format=obj"))
    assert error(response) == (400, "invalid_format")
    assert response.json()["error"]["fields"]["format"] == ["One of: glb, ply, preview."]
