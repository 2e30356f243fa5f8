"""The /api/v1/ router: each app contributes its `api/urls.py`."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("downloads.api.urls")),
    path("", include("pipeline.api.urls")),
]
