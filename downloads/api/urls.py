from django.urls import path

from downloads.api import ebooks, views

urlpatterns = [
    path("downloads/<int:product_id>", views.DownloadView.as_view(), name="download"),
    path("user/download-info", views.DownloadInfoView.as_view(), name="download-info"),
    path(
        "ebooks/<int:product_id>/chapters", ebooks.ChapterListView.as_view(), name="ebook-chapters"
    ),
    path(
        "ebooks/<int:product_id>/chapters/<int:position>",
        ebooks.ChapterView.as_view(),
        name="ebook-chapter",
    ),
    path("ebooks/<int:product_id>/progress", ebooks.ProgressView.as_view(), name="ebook-progress"),
]
