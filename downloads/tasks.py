"""Thin Celery tasks: they call services."""

from celery import shared_task


@shared_task
def grant_missing_entitlements() -> int:
    from downloads import services

    return services.entitlements_grant_missing()
