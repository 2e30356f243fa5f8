"""Health endpoints for the platform's probes.

- `/health/live`: the process answers (no dependency is touched).
- `/health/ready`: the database, the cache, file storage and the Celery broker all work;
  503 with the name of each failing part otherwise.
- `/health`: the same checks as ready, for people and monitors.
"""

import asyncio
import dataclasses

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class Broker(HealthCheck):
    """Open (and release) a connection to the Celery broker."""

    def run(self) -> None:
        from config.celery import app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # kombu raises transport-specific errors
            raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc


class ReadinessView(HealthCheckView):
    checks = (
        ("health_check.checks.Database", {}),
        ("health_check.checks.Cache", {}),
        ("health_check.checks.Storage", {}),
        (Broker, {}),
    )

    async def get(self, request: HttpRequest, *args, **kwargs) -> JsonResponse:
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        checks = {
            type(result.check).__name__.lower(): "ok" if result.error is None else str(result.error)
            for result in results
        }
        failed = sorted(name for name, state in checks.items() if state != "ok")
        body = {"status": "unavailable" if failed else "ok", "checks": checks}
        if failed:
            body["failed"] = failed
        return JsonResponse(body, status=503 if failed else 200)


@never_cache
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
