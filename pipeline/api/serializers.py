from django.urls import reverse
from rest_framework import serializers

from catalog.models import Product
from pipeline.models import CaptureJob


class UploadInput(serializers.Serializer):
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        allow_empty=True,
        required=False,
        default=list,
        help_text="The photos, as several `photos` parts: JPEG, PNG, WebP or HEIC.",
    )
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(),
        required=False,
        allow_null=True,
        help_text="The product the model is for: it is shown on its page when the job succeeds.",
    )


class JobLinksOutput(serializers.Serializer):
    status = serializers.CharField()
    cancel = serializers.CharField()
    model = serializers.CharField(allow_null=True, help_text="The `.glb`, once succeeded.")
    point_cloud = serializers.CharField(allow_null=True, help_text="The `.ply`, once succeeded.")
    preview = serializers.CharField(allow_null=True, help_text="A PNG, once succeeded.")


class JobOutput(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", default=None)
    stage_label = serializers.CharField(source="get_stage_display")
    duration = serializers.FloatField(allow_null=True, help_text="Seconds, once finished.")
    links = serializers.SerializerMethodField()

    class Meta:
        model = CaptureJob
        fields = [
            "id",
            "status",
            "stage",
            "stage_label",
            "percent",
            "product",
            "product_name",
            "photo_count",
            "registered",
            "points",
            "reprojection_error",
            "triangles",
            "mesh_method",
            "timings",
            "error_code",
            "error",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "duration",
            "links",
        ]

    def get_links(self, job) -> JobLinksOutput:
        request = self.context["request"]

        def url(name: str, query: str = "") -> str:
            return request.build_absolute_uri(reverse(name, args=[job.pk]) + query)

        done = job.status == CaptureJob.Status.SUCCEEDED
        download = "api:pipeline-download"
        return {
            "status": url("api:pipeline-status"),
            "cancel": url("api:pipeline-cancel"),
            "model": url(download) if done else None,
            "point_cloud": url(download, "?format=ply") if done else None,
            "preview": url(download, "?format=preview") if done else None,
        }
