"""Error pages: JSON in the API's error shape under /api/, the shop's templates elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from config.api_support.errors import api_not_found, api_server_error, is_api_request


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return api_server_error(request)
    return defaults.server_error(request)
