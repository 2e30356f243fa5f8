from django.urls import path

from downloads import ebook_views, views

app_name = "downloads"

urlpatterns = [
    path("account/downloads/", views.download_list, name="list"),
    path("account/downloads/<int:product_id>/", views.download, name="download"),
    path("account/ebooks/<int:product_id>/", ebook_views.ebook, name="ebook"),
    path("account/ebooks/<int:product_id>/<int:position>/", ebook_views.chapter, name="chapter"),
    path("downloads/order/<str:token>/", views.guest_downloads, name="guest"),
    path(
        "downloads/order/<str:token>/<int:product_id>/",
        views.guest_download,
        name="guest-download",
    ),
    path("downloads/file/<str:token>/", views.file, name="file"),
]
