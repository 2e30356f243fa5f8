from django.conf import settings
from django.http import HttpRequest


def store(request: HttpRequest) -> dict:
    return {"store_name": settings.STORE_NAME}
