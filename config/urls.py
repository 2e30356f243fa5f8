from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from catalog.views import home
from config import health

admin.site.site_header = "Store administration"
admin.site.site_title = "Store admin"

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ReadinessView.as_view(), name="health-ready"),
    path("health", health.ReadinessView.as_view(), name="health"),
]

handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
