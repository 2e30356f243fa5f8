"""What a client sees when django-axes locks a login out after repeated failures."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from config.api_support.errors import error_body, is_api_request

LOCKOUT_STATUS = 429


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        f"Too many failed sign-in attempts. This sign-in is locked for {minutes} minutes; "
        "try again later or reset your password."
    )
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if is_api_request(request):
        response = JsonResponse(error_body("locked_out", message), status=LOCKOUT_STATUS)
    else:
        response = render(
            request, "accounts/locked_out.html", {"message": message}, status=LOCKOUT_STATUS
        )
    response["Retry-After"] = retry_after
    return response
