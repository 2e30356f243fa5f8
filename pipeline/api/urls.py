from django.urls import path

from pipeline.api import views

urlpatterns = [
    path("pipeline/upload", views.UploadView.as_view(), name="pipeline-upload"),
    path("pipeline/jobs", views.JobListView.as_view(), name="pipeline-jobs"),
    path("pipeline/status/<uuid:job_id>", views.StatusView.as_view(), name="pipeline-status"),
    path("pipeline/download/<uuid:job_id>", views.DownloadView.as_view(), name="pipeline-download"),
    path("pipeline/<uuid:job_id>/cancel", views.CancelView.as_view(), name="pipeline-cancel"),
]
