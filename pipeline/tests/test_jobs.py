"""Capture jobs end to end with the real reconstruction (pycolmap, open3d) on photos rendered at
test time: a model on the product page from good photos, a message a person understands from
bad ones, and jobs that are cancelled, crash, or lose their worker."""

import io
from datetime import timedelta

import pytest
import trimesh
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone
from PIL import Image

from catalog.models import ProductModel3D
from catalog.tests.factories import ProductFactory, VariantFactory
from pipeline import reconstruct, services, synthetic
from pipeline.models import CaptureJob
from pipeline.tests.conftest import files_from, photos

pytestmark = pytest.mark.django_db

Status = CaptureJob.Status


def run(job: CaptureJob) -> CaptureJob:
    services.job_run(job.pk)
    job.refresh_from_db()
    return job


def test_twelve_photos_make_a_model_that_the_product_page_shows(client, staff, twelve_photos):
    product = ProductFactory(name="Shimpaku juniper", slug="shimpaku-juniper")
    VariantFactory(product=product)
    job = services.job_create(uploads=files_from(twelve_photos), user=staff, product=product)

    job = run(job)

    assert job.status == Status.SUCCEEDED, job.error
    assert (job.stage, job.percent, job.error) == ("export", 100, "")
    assert job.registered >= 10
    assert job.points >= 1000
    assert 0 < job.reprojection_error < 2
    assert job.triangles > 0
    assert set(job.timings) == set(reconstruct.STAGES)
    assert job.started_at <= job.finished_at

    with job.model_file.open("rb") as glb:
        mesh = trimesh.load(io.BytesIO(glb.read()), file_type="glb", force="mesh")
    assert len(mesh.faces) == job.triangles
    with job.preview.open("rb") as preview:
        assert Image.open(preview).size[0] >= 320
    with job.point_cloud.open("rb") as ply:
        assert ply.read(3) == b"ply"

    model = ProductModel3D.objects.get(product=product)
    assert (model.source, model.is_active, job.model_3d) == ("pipeline", True, model)
    page = client.get(product.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<model-viewer class="gallery__model" src="{model.file.url}"' in html
    assert "vendor/model-viewer.min.js" in html
    assert model.file.url.endswith(".glb")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        pytest.param(
            lambda folder: synthetic.make_noise_photos(folder, count=12, size=(320, 240), seed=3),
            "The photos could not be matched to each other",
            id="pure-noise",
        ),
        pytest.param(
            lambda folder: synthetic.copies_of_one_photo(folder, count=12),
            "11 of the 12 photos are copies of another one",
            id="twelve-copies-of-one-photo",
        ),
    ],
)
def test_photos_that_cannot_make_a_model_fail_the_job_with_advice(tmp_path, staff, make, words):
    job = run(services.job_create(uploads=files_from(make(tmp_path / "bad")), user=staff))

    assert (job.status, job.error_code) == (Status.FAILED, "not_matched")
    assert words in job.error
    assert job.finished_at is not None
    assert not job.model_file


def test_two_photos_fail_the_job_with_advice(settings, staff, twelve_photos):
    settings.PIPELINE_MIN_PHOTOS = 2
    two = files_from(twelve_photos)[:2]
    job = run(services.job_create(uploads=two, user=staff))

    assert (job.status, job.error_code) == (Status.FAILED, "too_few_photos")
    assert "2 were given" in job.error


def test_a_job_cancelled_while_running_stops_at_the_next_stage(staff, twelve_photos, monkeypatch):
    job = services.job_create(uploads=files_from(twelve_photos), user=staff)
    save_progress = services._progress

    def cancel_when_matching_starts(job_id, stage, percent):
        # What staff pressing "Cancel" while the photos are matched does to the job's row.
        save_progress(job_id, stage, percent)
        if stage == "matching":
            services.job_cancel(job=CaptureJob.objects.get(pk=job_id), user=staff)

    monkeypatch.setattr(services, "_progress", cancel_when_matching_starts)
    job = run(job)

    assert job.status == Status.CANCELLED
    assert job.stage == "matching"
    assert not job.model_file
    assert not ProductModel3D.objects.exists()


def test_an_unexpected_error_fails_the_job_with_a_plain_message(staff, monkeypatch, caplog):
    # A defect inside the reconstruction cannot be provoked with real photos: it is raised here.
    def crash(*args, **kwargs):
        raise RuntimeError("vertex buffer exploded")

    monkeypatch.setattr(reconstruct, "run", crash)
    job = run(services.job_create(uploads=photos(3), user=staff))

    assert (job.status, job.error_code) == (Status.FAILED, "internal_error")
    assert "unexpected error" in job.error
    assert str(job.pk) in job.error
    assert "vertex buffer exploded" not in job.error
    assert "capture job crashed" in caplog.text


def test_the_soft_time_limit_fails_the_job_and_says_what_to_change(staff, monkeypatch, settings):
    # Celery raises SoftTimeLimitExceeded from a signal after PIPELINE_TIME_LIMIT; waiting an
    # hour is not an option in a test, so it is raised where the reconstruction runs.
    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(reconstruct, "run", too_slow)
    job = run(services.job_create(uploads=photos(3), user=staff))

    assert (job.status, job.error_code) == (Status.FAILED, "time_limit")
    assert f"longer than {settings.PIPELINE_TIME_LIMIT // 60} minutes" in job.error


# --- Lost workers, re-runs, attaching -------------------------------------------------------------


def stuck(job: CaptureJob, *, attempts: int, minutes: int = 10) -> CaptureJob:
    """A job left running by a worker that died `minutes` ago."""
    long_ago = timezone.now() - timedelta(minutes=minutes)
    CaptureJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        attempts=attempts,
        stage="sparse",
        percent=55,
    )
    return job


def test_the_sweeper_retries_a_job_whose_worker_died_then_fails_it(
    staff, django_capture_on_commit_callbacks
):
    first = stuck(services.job_create(uploads=photos(3), user=staff), attempts=1)
    last = stuck(services.job_create(uploads=photos(3), user=staff), attempts=2)
    alive = stuck(services.job_create(uploads=photos(3), user=staff), attempts=1, minutes=1)

    with django_capture_on_commit_callbacks() as sent:
        swept = services.jobs_sweep_stuck()

    assert swept == {"retried": 1, "failed": 1, "resent": 0}
    assert len(sent) == 1, "the retried job is sent to the worker again"
    first.refresh_from_db()
    assert (first.status, first.attempts, first.stage, first.percent) == (Status.QUEUED, 1, "", 0)
    last.refresh_from_db()
    assert (last.status, last.error_code) == (Status.FAILED, "worker_lost")
    assert "stopped 2 times without finishing" in last.error
    alive.refresh_from_db()
    assert alive.status == Status.RUNNING


def test_the_sweeper_sends_again_a_job_whose_message_was_lost(
    staff, settings, django_capture_on_commit_callbacks
):
    job = services.job_create(uploads=photos(3), user=staff)
    forgotten = timezone.now() - timedelta(seconds=settings.PIPELINE_TIME_LIMIT + 60)
    CaptureJob.objects.filter(pk=job.pk).update(updated_at=forgotten)

    with django_capture_on_commit_callbacks() as sent:
        assert services.jobs_sweep_stuck() == {"retried": 0, "failed": 0, "resent": 1}

    assert len(sent) == 1
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    assert job.updated_at > forgotten


def test_a_finished_job_runs_again_from_its_photos(
    succeeded_job, staff, django_capture_on_commit_callbacks
):
    model_name = succeeded_job.model_file.name
    storage = succeeded_job.model_file.storage

    with django_capture_on_commit_callbacks() as sent:
        job = services.job_rerun(job=succeeded_job)

    assert (job.status, job.attempts, job.percent, job.timings) == (Status.QUEUED, 0, 0, {})
    assert not job.model_file
    assert not storage.exists(model_name)
    assert len(sent) == 1
    with pytest.raises(services.JobStateError) as refused:
        services.job_rerun(job=job)
    assert refused.value.code == "job_not_finished"


def test_attaching_shows_the_new_model_in_place_of_the_old(succeeded_job):
    product = ProductFactory()
    old = ProductModel3D.objects.create(product=product, file="models3d/old.glb")

    model = services.job_attach(job=succeeded_job, product=product)

    old.refresh_from_db()
    assert (old.is_active, model.is_active, model.source) == (False, True, "pipeline")
    assert model.file.read() == b"glTF-binary-model"
    succeeded_job.refresh_from_db()
    assert (succeeded_job.product, succeeded_job.model_3d) == (product, model)
