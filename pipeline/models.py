"""Photo-to-3D capture jobs: the photos staff took around a product, the background job that
reconstructs a model from them, its progress, statistics and results."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from catalog.models import Product, ProductModel3D
from downloads.storage import private_files

STAGES = ("prepare", "features", "matching", "sparse", "mesh", "export")


def photo_path(photo: "CapturePhoto", filename: str) -> str:
    return f"pipeline/{photo.job_id}/photos/{filename}"


def result_path(job: "CaptureJob", filename: str) -> str:
    return f"pipeline/{job.pk}/results/{filename}"


class CaptureJob(models.Model):
    """One reconstruction: photos in, a `.glb` model, a `.ply` point cloud and a preview out."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Stage(models.TextChoices):
        PREPARE = "prepare", "Preparing the photos"
        FEATURES = "features", "Finding features"
        MATCHING = "matching", "Matching photos"
        SPARSE = "sparse", "Placing the cameras"
        MESH = "mesh", "Building the surface"
        EXPORT = "export", "Exporting the model"

    FINISHED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="capture_jobs",
        help_text="The product the model is for; it is shown on its page when the job succeeds.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per stage.")
    attempts = models.PositiveSmallIntegerField(default=0)
    max_side = models.PositiveIntegerField(
        help_text="Photos are scaled down so that their longer side is at most this (pixels)."
    )

    photo_count = models.PositiveIntegerField(default=0)
    upload_bytes = models.PositiveBigIntegerField(default=0)
    registered = models.PositiveIntegerField("photos placed", null=True, blank=True)
    points = models.PositiveIntegerField("3D points", null=True, blank=True)
    reprojection_error = models.FloatField("mean reprojection error (px)", null=True, blank=True)
    triangles = models.PositiveIntegerField(null=True, blank=True)
    mesh_method = models.CharField(max_length=20, blank=True)

    error_code = models.CharField(max_length=40, blank=True)
    error = models.TextField("what went wrong", blank=True)

    model_file = models.FileField(
        "model (.glb)", upload_to=result_path, storage=private_files, blank=True
    )
    point_cloud = models.FileField(
        "point cloud (.ply)", upload_to=result_path, storage=private_files, blank=True
    )
    preview = models.FileField(upload_to=result_path, storage=private_files, blank=True)
    model_3d = models.ForeignKey(
        ProductModel3D,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The product's 3D model made from this job's result.",
    )

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="The worker's last sign of life while running."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "3D capture job"
        permissions = [("run_pipeline", "Can upload photos and run 3D capture jobs")]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="pipeline_job_status_beat"),
        ]

    def __str__(self) -> str:
        subject = self.product.name if self.product_id else "no product"
        return f"Capture {str(self.pk)[:8]} ({subject})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class CapturePhoto(models.Model):
    """One uploaded photo, kept as it came (orientation and size are fixed when the job runs)."""

    job = models.ForeignKey(CaptureJob, on_delete=models.CASCADE, related_name="photos")
    position = models.PositiveIntegerField()
    file = models.FileField(upload_to=photo_path, storage=private_files, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="pipeline_photo_position")
        ]

    def __str__(self) -> str:
        return self.original_name
