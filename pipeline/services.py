"""Capture jobs: made from checked photos, run by a worker through the reconstruction stages,
cancelled, re-run, swept when their worker dies, and their model put on the product's page.

A job only moves forward through conditional updates (queued -> running -> a finished state),
so a cancel, a second delivery of the task and the sweeper can race without harm.
"""

import logging
import tempfile
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename, slugify

from catalog.models import Product, ProductModel3D
from downloads.storage import private_file_url, read_file_link
from pipeline import tasks
from pipeline.exceptions import JobStateError
from pipeline.models import CaptureJob, CapturePhoto
from pipeline.photos import check_photos

if TYPE_CHECKING:
    from pipeline.reconstruct import Result

logger = logging.getLogger(__name__)

Status = CaptureJob.Status
RESULT_SALT = "pipeline.result"
# What GET .../download/{id}?format= serves: field, file extension, content type.
RESULTS = {
    "glb": ("model_file", "glb", "model/gltf-binary"),
    "ply": ("point_cloud", "ply", "application/octet-stream"),
    "preview": ("preview", "png", "image/png"),
}


# --- Making and steering jobs -----------------------------------------------------------------


def job_create(
    *, uploads: Sequence[UploadedFile], user, product: Product | None = None
) -> CaptureJob:
    """Check the photos, store them and queue the job (once the transaction commits)."""
    photos = check_photos(uploads)
    with transaction.atomic():
        job = CaptureJob.objects.create(
            product=product,
            created_by=user,
            max_side=settings.PIPELINE_MAX_SIDE,
            photo_count=len(photos),
            upload_bytes=sum(photo.size for photo in photos),
        )
        for position, photo in enumerate(photos, start=1):
            record = CapturePhoto(
                job=job,
                position=position,
                original_name=photo.name[:255],
                content_type=photo.content_type,
                size=photo.size,
                width=photo.width,
                height=photo.height,
            )
            name = f"{position:03d}-{get_valid_filename(Path(photo.name).name) or 'photo'}"
            record.file.save(name[:120], photo.upload, save=False)
            record.save()
        _enqueue(job)
    logger.info("capture job queued", extra={"job": str(job.pk), "photos": len(photos)})
    return job


def job_cancel(*, job: CaptureJob, user) -> CaptureJob:
    """Stop a queued or running job. A running reconstruction stops at its next stage."""
    stopped = CaptureJob.objects.filter(pk=job.pk, status__in=[Status.QUEUED, Status.RUNNING])
    if not stopped.update(
        status=Status.CANCELLED,
        finished_at=timezone.now(),
        error=f"Cancelled by {user}." if user else "Cancelled.",
        error_code="cancelled",
    ):
        job.refresh_from_db()
        raise JobStateError(
            f"This job has already {job.get_status_display().lower()}: there is nothing to cancel.",
            code="job_finished",
        )
    job.refresh_from_db()
    return job


def job_rerun(*, job: CaptureJob) -> CaptureJob:
    """Run a finished job again from its photos (after a failure, or with new settings)."""
    with transaction.atomic():
        locked = CaptureJob.objects.select_for_update().get(pk=job.pk)
        if not locked.is_finished:
            raise JobStateError(
                "This job is still queued or running: cancel it first, or wait for it.",
                code="job_not_finished",
            )
        for field in ("model_file", "point_cloud", "preview"):
            getattr(locked, field).delete(save=False)
        _reset(locked, max_side=settings.PIPELINE_MAX_SIDE, attempts=0)
        _enqueue(locked)
    return locked


def job_delete(*, job: CaptureJob) -> None:
    """Delete a job with its photos and results, from the storage as well. A model already on a
    product's page stays there (it is the product's own copy)."""
    files = [photo.file for photo in job.photos.all()]
    files += [getattr(job, field) for field in ("model_file", "point_cloud", "preview")]
    stored = [(file.storage, file.name) for file in files if file]

    def delete_files() -> None:
        for storage, name in stored:
            storage.delete(name)

    with transaction.atomic():
        job.delete()
        transaction.on_commit(delete_files)


def job_attach(*, job: CaptureJob, product: Product | None = None) -> ProductModel3D:
    """Show the job's model on the product's page, in place of the models shown there so far
    (they are kept, switched off)."""
    product = product or job.product
    if job.status != Status.SUCCEEDED or not job.model_file:
        raise JobStateError(
            "Only a job that succeeded has a model to show.", code="job_not_succeeded"
        )
    if product is None:
        raise JobStateError(
            "Choose the product this model shows.",
            code="product_required",
            status_code=400,
            fields={"product": ["This field is required."]},
        )
    stem = f"{slugify(product.name) or 'product'}-{str(job.pk)[:8]}"
    with transaction.atomic():
        ProductModel3D.objects.filter(product=product, is_active=True).update(is_active=False)
        model = ProductModel3D(product=product, source=ProductModel3D.Source.PIPELINE)
        with job.model_file.open("rb") as glb:
            model.file.save(f"{stem}.glb", File(glb), save=False)
        if job.preview:
            with job.preview.open("rb") as preview:
                model.poster.save(f"{stem}.png", File(preview), save=False)
        model.save()
        CaptureJob.objects.filter(pk=job.pk).update(product=product, model_3d=model)
    job.product, job.model_3d = product, model
    return model


def upload_limits() -> str:
    """The upload rules, as staff read them next to the upload field."""
    return (
        f"{settings.PIPELINE_MIN_PHOTOS} to {settings.PIPELINE_MAX_PHOTOS} photos, at most "
        f"{settings.PIPELINE_MAX_PHOTO_MB} MB each and {settings.PIPELINE_MAX_JOB_MB} MB in all."
    )


def result_filename(job: CaptureJob, kind: str) -> str:
    stem = slugify(job.product.name) if job.product_id else "capture"
    return f"{stem}-{str(job.pk)[:8]}.{RESULTS[kind][1]}"


def result_url(*, job: CaptureJob, kind: str) -> str:
    """A link to one of the job's results that works for at most five minutes."""
    field, _, content_type = RESULTS[kind]
    result = getattr(job, field)
    if job.status != Status.SUCCEEDED or not result:
        raise JobStateError(
            f"This job has no result yet: it is {job.get_status_display().lower()}.",
            code="result_not_ready",
        )
    return private_file_url(
        result.name,
        filename=result_filename(job, kind),
        content_type=content_type,
        local_url=lambda: reverse(
            "pipeline:result",
            args=[signing.dumps({"job": str(job.pk), "kind": kind}, salt=RESULT_SALT)],
        ),
    )


def result_from_link(token: str) -> tuple[CaptureJob, str] | None:
    """The job and result a signed local link points to, while the link is valid."""
    data = read_file_link(token, RESULT_SALT)
    if data is None or data.get("kind") not in RESULTS:
        return None
    job = CaptureJob.objects.filter(pk=data.get("job"), status=Status.SUCCEEDED).first()
    if job is None:
        return None
    return job, data["kind"]


# --- Running a job (in the pipeline worker) ---------------------------------------------------


def job_run(job_id: UUID | str) -> CaptureJob | None:
    """Claim a queued job and take it through every stage. Failures a person can act on end
    the job with their advice; anything else ends it with a plain message and is logged."""
    if not _claim(job_id):
        logger.info("capture job not queued: skipped", extra={"job": str(job_id)})
        return None
    # Only the pipeline worker loads the reconstruction libraries (pycolmap, open3d): web
    # processes stay small.
    from pipeline import reconstruct

    job = CaptureJob.objects.get(pk=job_id)
    with tempfile.TemporaryDirectory(prefix="capture-") as folder, _Heartbeat(job.pk):
        try:
            _progress(job.pk, CaptureJob.Stage.PREPARE, 0)
            photos = _fetch_photos(job, Path(folder) / "originals")
            result = reconstruct.run(
                photos,
                Path(folder) / "work",
                options=reconstruct.Options(max_side=job.max_side),
                progress=lambda stage, percent: _progress(job.pk, stage, percent),
                should_stop=lambda: _cancelled(job.pk),
            )
            _succeed(job, result)
        except reconstruct.Cancelled:
            logger.info("capture job cancelled while running", extra={"job": str(job.pk)})
        except reconstruct.ReconstructionFailed as failure:
            _fail(job.pk, failure.message, failure.code)
        except SoftTimeLimitExceeded:
            minutes = settings.PIPELINE_TIME_LIMIT // 60
            _fail(
                job.pk,
                f"The reconstruction took longer than {minutes} minutes and was stopped. Use "
                "fewer photos, or ask for a smaller photo size (PIPELINE_MAX_SIDE).",
                "time_limit",
            )
        except Exception:
            logger.exception("capture job crashed", extra={"job": str(job.pk)})
            _fail(
                job.pk,
                "The reconstruction stopped on an unexpected error. Run it again; if it fails "
                f"again, send us the job id {job.pk}.",
                "internal_error",
            )
    job.refresh_from_db()
    if job.status == Status.SUCCEEDED and job.product_id:
        job_attach(job=job)
    return job


def jobs_sweep_stuck() -> dict[str, int]:
    """Jobs whose worker stopped (killed, out of memory, past the hard time limit) are run
    again while attempts remain, else failed with the reason; queued jobs whose message was
    lost are sent again."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PIPELINE_STALE_SECONDS)
    swept = {"retried": 0, "failed": 0, "resent": 0}
    with transaction.atomic():
        stuck = CaptureJob.objects.select_for_update(skip_locked=True).filter(
            Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale),
            status=Status.RUNNING,
        )
        for job in stuck:
            if job.attempts < settings.PIPELINE_MAX_ATTEMPTS:
                _reset(job)
                _enqueue(job)
                swept["retried"] += 1
            else:
                _fail(
                    job.pk,
                    f"The job stopped {job.attempts} times without finishing: its worker "
                    "stopped, ran out of memory or reached the time limit of "
                    f"{settings.PIPELINE_TIME_LIMIT // 60} minutes. Try fewer photos.",
                    "worker_lost",
                )
                swept["failed"] += 1
        forgotten = CaptureJob.objects.select_for_update(skip_locked=True).filter(
            status=Status.QUEUED,
            updated_at__lt=now - timedelta(seconds=settings.PIPELINE_TIME_LIMIT),
        )
        for job in forgotten:
            job.save(update_fields=["updated_at"])
            _enqueue(job)
            swept["resent"] += 1
    if any(swept.values()):
        logger.warning("capture jobs swept", extra=swept)
    return swept


def _enqueue(job: CaptureJob) -> None:
    job_id = str(job.pk)
    transaction.on_commit(lambda: tasks.run_capture_job.delay(job_id))


def _reset(job: CaptureJob, **fields) -> None:
    for name, value in {
        "status": Status.QUEUED,
        "stage": "",
        "percent": 0,
        "timings": {},
        "error": "",
        "error_code": "",
        "started_at": None,
        "finished_at": None,
        "heartbeat_at": None,
        **fields,
    }.items():
        setattr(job, name, value)
    job.save()


def _claim(job_id) -> bool:
    now = timezone.now()
    return bool(
        CaptureJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
            status=Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            stage=CaptureJob.Stage.PREPARE,
            percent=0,
            attempts=F("attempts") + 1,
        )
    )


def _running(job_id):
    return CaptureJob.objects.filter(pk=job_id, status=Status.RUNNING)


def _progress(job_id, stage: str, percent: int) -> None:
    _running(job_id).update(
        stage=stage, percent=max(0, min(100, int(percent))), heartbeat_at=timezone.now()
    )


def _cancelled(job_id) -> bool:
    return not _running(job_id).exists()


def _fetch_photos(job: CaptureJob, folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for photo in job.photos.all():
        path = folder / Path(photo.file.name).name
        with photo.file.open("rb") as source, path.open("wb") as target:
            for chunk in source.chunks():
                target.write(chunk)
        paths.append(path)
    return paths


def _succeed(job: CaptureJob, result: "Result") -> None:
    for field, path in (
        ("model_file", result.glb),
        ("point_cloud", result.ply),
        ("preview", result.preview),
    ):
        with path.open("rb") as handle:
            getattr(job, field).save(path.name, File(handle), save=False)
    finished = _running(job.pk).update(
        status=Status.SUCCEEDED,
        stage=CaptureJob.Stage.EXPORT,
        percent=100,
        finished_at=timezone.now(),
        timings={stage: round(seconds, 3) for stage, seconds in result.timings.items()},
        registered=result.registered,
        points=result.points,
        reprojection_error=result.mean_reprojection_error,
        triangles=result.triangles,
        mesh_method=result.mesh_method,
        model_file=job.model_file.name,
        point_cloud=job.point_cloud.name,
        preview=job.preview.name,
    )
    if not finished:  # cancelled meanwhile: its results are not wanted
        for field in ("model_file", "point_cloud", "preview"):
            getattr(job, field).delete(save=False)
        return
    logger.info(
        "capture job succeeded",
        extra={
            "job": str(job.pk),
            "registered": result.registered,
            "photos": result.photos,
            "points": result.points,
        },
    )


def _fail(job_id, message: str, code: str) -> None:
    _running(job_id).update(
        status=Status.FAILED, finished_at=timezone.now(), error=message, error_code=code
    )
    logger.warning("capture job failed", extra={"job": str(job_id), "code": code})


class _Heartbeat:
    """While a job runs, a thread marks it alive every PIPELINE_HEARTBEAT_SECONDS, so that the
    sweeper can tell a long stage from a dead worker."""

    def __init__(self, job_id) -> None:
        self.job_id = job_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="capture-heartbeat", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join()

    def _beat(self) -> None:
        try:
            while not self.stop.wait(settings.PIPELINE_HEARTBEAT_SECONDS):
                close_old_connections()
                _running(self.job_id).update(heartbeat_at=timezone.now())
        finally:
            connection.close()
