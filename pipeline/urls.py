from django.urls import path

from pipeline import views

app_name = "pipeline"

urlpatterns = [
    path("pipeline/result/<str:token>/", views.result, name="result"),
]
