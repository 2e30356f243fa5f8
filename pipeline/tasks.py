"""Background jobs of the pipeline: the reconstruction (on its own `pipeline` queue, see
CELERY_TASK_ROUTES) and the sweep of jobs whose worker stopped (on the default queue)."""

from celery import shared_task
from django.conf import settings


@shared_task(
    name="pipeline.tasks.run_capture_job",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.PIPELINE_TIME_LIMIT,
    soft_time_limit=max(settings.PIPELINE_TIME_LIMIT - 60, 30),
)
def run_capture_job(job_id: str) -> None:
    from pipeline.services import job_run

    job_run(job_id)


@shared_task(name="pipeline.tasks.sweep_stuck_jobs")
def sweep_stuck_jobs() -> dict[str, int]:
    from pipeline.services import jobs_sweep_stuck

    return jobs_sweep_stuck()
