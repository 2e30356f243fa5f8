from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone


def store(request: HttpRequest) -> dict:
    return {"store_name": settings.STORE_NAME, "year": timezone.localdate().year}
