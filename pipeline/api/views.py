"""The pipeline under /api/v1/pipeline/: upload photos (a job starts), follow its progress,
download its results, cancel it, list jobs. For staff and holders of the pipeline permission."""

from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import ApplicationError
from pipeline import selectors, services
from pipeline.api import serializers as s
from pipeline.models import CaptureJob


class CanRunPipeline(BasePermission):
    message = "Only staff and people allowed to run 3D captures may use the pipeline."

    def has_permission(self, request, view) -> bool:
        return selectors.can_run_pipeline(request.user)


class PipelineView(APIView):
    permission_classes = [CanRunPipeline]

    def job(self, job_id) -> CaptureJob:
        return get_object_or_404(selectors.jobs(), pk=job_id)

    def job_response(self, job: CaptureJob, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.JobOutput(job, context={"request": self.request}).data, status=code)


@extend_schema(tags=["pipeline"])
class UploadView(PipelineView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "uploads"

    @extend_schema(
        summary="Upload photos of a product: a 3D capture job starts",
        request={"multipart/form-data": s.UploadInput},
        responses={
            202: s.JobOutput,
            400: OpenApiResponse(
                description="`invalid_photos`, `photo_count` or `photos_too_large`; "
                "`fields.photos` names each refused file and why."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = s.UploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_create(
            uploads=data.validated_data["photos"],
            user=request.user,
            product=data.validated_data.get("product"),
        )
        response = self.job_response(job, status.HTTP_202_ACCEPTED)
        response["Location"] = response.data["links"]["status"]
        return response


@extend_schema(tags=["pipeline"])
class StatusView(PipelineView):
    @extend_schema(summary="A job's status, stage, progress and results", responses=s.JobOutput)
    def get(self, request: Request, job_id) -> Response:
        return self.job_response(self.job(job_id))


class ResultFormatNegotiation(DefaultContentNegotiation):
    """`?format=` names the result's file format here, not the response's: answers (a
    redirect, or an error) are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(tags=["pipeline"])
class DownloadView(PipelineView):
    content_negotiation_class = ResultFormatNegotiation

    @extend_schema(
        summary="Download a job's result",
        parameters=[
            OpenApiParameter(
                "format",
                str,
                OpenApiParameter.QUERY,
                required=False,
                enum=list(services.RESULTS),
                description="`glb` (the default), `ply` or `preview`.",
            )
        ],
        responses={
            302: OpenApiResponse(description="Location: a link that works for five minutes."),
            409: OpenApiResponse(description="`result_not_ready`: the job has not succeeded."),
        },
    )
    def get(self, request: Request, job_id) -> HttpResponseRedirect:
        kind = request.query_params.get("format", "glb")
        if kind not in services.RESULTS:
            raise ApplicationError(
                f"Unknown format {kind!r}.",
                code="invalid_format",
                fields={"format": [f"One of: {', '.join(services.RESULTS)}."]},
            )
        return HttpResponseRedirect(services.result_url(job=self.job(job_id), kind=kind))


@extend_schema(tags=["pipeline"])
class CancelView(PipelineView):
    @extend_schema(
        summary="Cancel a queued or running job",
        request=None,
        responses={200: s.JobOutput, 409: OpenApiResponse(description="`job_finished`.")},
    )
    def post(self, request: Request, job_id) -> Response:
        return self.job_response(services.job_cancel(job=self.job(job_id), user=request.user))


@extend_schema(tags=["pipeline"])
class JobListView(generics.ListAPIView):
    """Capture jobs, newest first; filter by `status` and `product`."""

    permission_classes = [CanRunPipeline]
    serializer_class = s.JobOutput
    filterset_fields = ["status", "product"]
    ordering_fields = ["created_at", "finished_at"]

    def get_queryset(self):
        return selectors.jobs()
