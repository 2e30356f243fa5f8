"""One error shape for the whole API: `{"error": {"code", "message", "fields"}}`."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from config.exceptions import ApplicationError

VALIDATION_MESSAGE = "Some fields are not valid: see `fields`."


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # A server error: Django's handler500 answers (see `api_server_error`).

    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_error_body(exc.detail)
    else:
        detail, code = exc.detail, exc.get_codes()
        if isinstance(detail, dict):  # simplejwt: {"detail", "code", "messages"}
            detail = detail.get("detail", exc.default_detail)
            code = exc.default_code
        response.data = error_body(str(code), str(detail))
    return response


def _validation_error_body(detail) -> dict:
    if isinstance(detail, dict):
        fields = detail
    else:  # A bare `raise ValidationError("...")` from a view or serializer.validate().
        fields = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
    non_field = fields.get("non_field_errors")
    message = str(non_field[0]) if non_field else VALIDATION_MESSAGE
    code = _first_code(fields) or "invalid"
    return error_body(code if non_field else "invalid", message, fields)


def _first_code(fields: dict) -> str | None:
    errors = fields.get("non_field_errors") or []
    return getattr(errors[0], "code", None) if errors else None


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("not_found", "No such resource."), status=status.HTTP_404_NOT_FOUND
    )


def api_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", "Something went wrong on our side; it has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
