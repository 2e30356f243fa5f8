from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps import views as sitemaps_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from catalog.sitemaps import SITEMAPS
from catalog.views import home
from config import health

admin.site.site_header = "Store administration"
admin.site.site_title = "Store admin"

urlpatterns = [
    path("", home, name="home"),
    path("", include("catalog.urls")),
    path("", include("orders.urls")),
    path("", include("payments.urls")),
    path("", include("downloads.urls")),
    path("", include("pipeline.urls")),
    # An index of one sitemap per section, each split into pages of up to 50,000 addresses.
    path(
        "sitemap.xml",
        sitemaps_views.index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        sitemaps_views.sitemap,
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api")),
    # Stripe's webhooks: /stripe/webhook/<uuid>/ (see `manage.py stripe_setup`).
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ReadinessView.as_view(), name="health-ready"),
    path("health", health.ReadinessView.as_view(), name="health"),
]

if settings.DEBUG:
    # Local development keeps uploads in MEDIA_ROOT; production serves them from object storage.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
