"""Reading capture jobs: for the API's lists and the admin."""

from django.db.models import QuerySet

from pipeline.models import CaptureJob


def can_run_pipeline(user) -> bool:
    """Staff, and people given the "run 3D capture jobs" permission."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_staff or user.has_perm("pipeline.run_pipeline"))
    )


def jobs() -> QuerySet[CaptureJob]:
    return CaptureJob.objects.select_related("product")
