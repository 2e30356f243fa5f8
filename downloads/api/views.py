"""Downloads under /api/v1/: what a member may download, and the download itself (counted,
then redirected to a link that works for five minutes)."""

from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from downloads import selectors, services
from downloads.api import serializers as s
from downloads.models import Entitlement


@extend_schema(tags=["downloads"])
class DownloadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Download a bought product's file",
        description=(
            "Counts one download and answers 302 to a link that works for at most five minutes "
            "and saves the file under its name. `asset` picks one of several files (see "
            "user/download-info); without it, the first."
        ),
        parameters=[
            OpenApiParameter("product_id", int, OpenApiParameter.PATH),
            OpenApiParameter("asset", int, OpenApiParameter.QUERY, required=False),
        ],
        responses={
            302: OpenApiResponse(description="Location: the file's short-lived link."),
            403: OpenApiResponse(
                description="`download_limit_reached`, `download_expired` or `download_revoked`:"
                " the message says what to do."
            ),
            404: OpenApiResponse(description="Nothing bought gives this file."),
        },
    )
    def get(self, request: Request, product_id: int) -> HttpResponseRedirect:
        asset = request.query_params.get("asset", "")
        download = services.download_start(
            product_id=product_id,
            user=request.user,
            asset_id=int(asset) if asset.isdigit() else None,
            ip_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return HttpResponseRedirect(download.url)


@extend_schema(tags=["downloads"])
class DownloadInfoView(generics.ListAPIView):
    """What the signed-in member bought to download, with the downloads left."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.DownloadInfoOutput
    filter_backends: list = []
    queryset = Entitlement.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Entitlement.objects.none()
        return selectors.downloads_of(user=self.request.user)

    @extend_schema(summary="Your downloads, with the files and the downloads left")
    def get(self, request: Request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
