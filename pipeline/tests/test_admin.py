"""Staff's pipeline screens: many photos uploaded at once, the jobs list with its progress bars,
a result previewed, and the attach, re-run and cancel actions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import ProductModel3D
from catalog.tests.factories import ProductFactory
from pipeline import services
from pipeline.models import CaptureJob
from pipeline.tests.conftest import photos

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:pipeline_capturejob_changelist")
UPLOAD = reverse("admin:pipeline_capturejob_add")


def change_url(job) -> str:
    return reverse("admin:pipeline_capturejob_change", args=[job.pk])


def act(client, action: str, *jobs):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(job.pk) for job in jobs]},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_staff_upload_many_photos_at_once_for_a_product(
    staff_client, staff, django_capture_on_commit_callbacks
):
    product = ProductFactory(name="Chinese elm")
    form = staff_client.get(UPLOAD, {"product": product.pk})
    assert form.status_code == 200
    html = form.content.decode()
    assert '<input type="file" name="photos" accept="image/*,.heic,.heif" multiple' in html
    assert "3 to 300 photos" in html

    with django_capture_on_commit_callbacks() as sent:
        response = staff_client.post(UPLOAD, {"product": product.pk, "photos": photos(4)})

    job = CaptureJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(job)
    assert (job.product, job.photo_count, job.created_by, job.status) == (
        product,
        4,
        staff,
        "queued",
    )
    assert len(sent) == 1
    page = staff_client.get(change_url(job))
    assert messages_of(page) == [
        "4 photos uploaded: the 3D model is being made. This page shows its progress."
    ]
    assert '<meta http-equiv="refresh" content="5">' in page.content.decode()


def test_a_refused_upload_names_the_bad_files_and_makes_no_job(staff_client):
    bad = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    response = staff_client.post(UPLOAD, {"photos": [*photos(3), bad]})

    assert response.status_code == 200
    assert "receipt.pdf: not a JPEG, PNG, WebP or HEIC image" in response.content.decode()
    assert not CaptureJob.objects.exists()

    response = staff_client.post(UPLOAD, {"photos": photos(2)})
    assert "2 photos: between 3 and 300 are needed." in response.content.decode()


def test_the_list_shows_status_stage_and_a_progress_bar(staff_client):
    job = services.job_create(uploads=photos(3), user=None, product=ProductFactory(name="Larch"))
    services._claim(job.pk)
    services._progress(job.pk, "features", 35)

    html = staff_client.get(CHANGELIST).content.decode()

    assert '<progress max="100" value="35"' in html
    assert "Finding features" in html
    assert "Larch" in html


def test_a_succeeded_job_is_previewed_and_attached_to_its_product(staff_client, succeeded_job):
    product = ProductFactory(name="Hinoki cypress")
    CaptureJob.objects.filter(pk=succeeded_job.pk).update(product=product)

    page = staff_client.get(change_url(succeeded_job)).content.decode()
    assert "<model-viewer" in page
    assert "vendor/model-viewer.min.js" in page
    assert "Download the model (.glb)" in page
    assert 'http-equiv="refresh"' not in page

    response = act(staff_client, "attach_to_product", succeeded_job)
    assert "1 job(s) attached." in messages_of(response)
    assert ProductModel3D.objects.get(product=product).is_active


def test_cancel_and_rerun_actions_say_what_they_did(staff_client, succeeded_job):
    queued = services.job_create(uploads=photos(3), user=None)

    response = act(staff_client, "cancel", queued, succeeded_job)
    assert "1 job(s) cancelled." in messages_of(response)
    assert any("already succeeded" in message for message in messages_of(response))
    queued.refresh_from_db()
    assert queued.status == "cancelled"

    response = act(staff_client, "rerun", queued)
    assert "1 job(s) queued again." in messages_of(response)
    queued.refresh_from_db()
    assert queued.status == "queued"


def test_deleting_a_job_removes_its_photos_and_results_from_the_storage(
    staff_client, succeeded_job, django_capture_on_commit_callbacks
):
    job = services.job_create(uploads=photos(3), user=None)
    stored = [photo.file.name for photo in job.photos.all()]
    stored += [succeeded_job.model_file.name, succeeded_job.preview.name]
    storage = succeeded_job.model_file.storage
    assert all(storage.exists(name) for name in stored)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            CHANGELIST,
            {
                "action": "delete_selected",
                "_selected_action": [str(job.pk), str(succeeded_job.pk)],
                "post": "yes",
            },
        )

    assert response.status_code == 302
    assert not CaptureJob.objects.exists()
    assert [name for name in stored if storage.exists(name)] == []


def test_statistics_read_as_people_write_them(staff_client, succeeded_job):
    CaptureJob.objects.filter(pk=succeeded_job.pk).update(
        reprojection_error=0.23923, timings={"features": 7.1, "prepare": 0.12, "sparse": 1.78}
    )
    html = staff_client.get(change_url(succeeded_job)).content.decode()
    assert "0.24 px" in html
    assert (
        "preparing the photos: 0.1 s · finding features: 7.1 s · placing the cameras: 1.8 s" in html
    )
