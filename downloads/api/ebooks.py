"""E-books under /api/v1/ebooks/: the chapters of a bought e-book and the reader's place in it.

Only a member who bought the e-book (paid, not refunded, not expired) sees it; for anybody
else it does not exist (404). Chapters are addressed by their `position` (1, 2, ...); the place
within a chapter is the index of its top-level block (heading, paragraph...), from 0.
"""

from decimal import ROUND_HALF_UP, Decimal

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from downloads import selectors, services
from downloads.models import Chapter

MAX_BLOCK = 1_000_000

PRODUCT_ID = OpenApiParameter(
    "product_id", int, OpenApiParameter.PATH, description="The e-book (a digital product)."
)
POSITION = OpenApiParameter(
    "position", int, OpenApiParameter.PATH, description="The chapter's position: 1, 2, ..."
)
NOT_FOUND = OpenApiResponse(
    description="`not_found`: not bought by this member, refunded, expired, or no e-book."
)


# --- Serializers ----------------------------------------------------------------------------------


class ChapterRefOutput(serializers.Serializer):
    position = serializers.IntegerField()
    title = serializers.CharField()


class ChapterOutput(serializers.Serializer):
    position = serializers.IntegerField()
    title = serializers.CharField()
    html = serializers.CharField(
        source="body_html", help_text="The chapter as sanitized HTML, safe to show as it is."
    )
    previous = serializers.IntegerField(
        allow_null=True, help_text="The previous chapter's position; null for the first."
    )
    next = serializers.IntegerField(
        allow_null=True, help_text="The next chapter's position; null for the last."
    )


class ProgressInput(serializers.Serializer):
    chapter = serializers.IntegerField(min_value=1, help_text="The position of the chapter.")
    position = serializers.IntegerField(
        min_value=0,
        max_value=MAX_BLOCK,
        help_text="The block (n-th top-level element, from 0) at the top of the reader.",
    )
    percent = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
        help_text="How far through the book, 0 to 100, as a number or a string (rounded to "
        "two decimals). Without it, worked out from the chapter.",
    )

    def validate_percent(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class ProgressOutput(serializers.Serializer):
    chapter = serializers.IntegerField(help_text="The position of the chapter.")
    position = serializers.IntegerField(help_text="The block at the top of the reader, from 0.")
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    updated_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was saved; null when the book was never opened."
    )


def _progress_data(progress) -> dict:
    return {
        "chapter": progress.chapter.position,
        "position": progress.position,
        "percent": progress.percent,
        "updated_at": progress.updated_at,
    }


# --- Views ----------------------------------------------------------------------------------------


# The e-book of the URL, if the member may read it (NotEntitled answers 404 otherwise).
class EbookMixin:
    permission_classes = [IsAuthenticated]

    def _ebook(self, request: Request, product_id: int) -> Product:
        return selectors.ebook_for_reader(user=request.user, product_id=product_id)


@extend_schema(tags=["ebooks"], parameters=[PRODUCT_ID])
class ChapterListView(EbookMixin, generics.ListAPIView):
    serializer_class = ChapterRefOutput
    filter_backends: list = []
    queryset = Chapter.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Chapter.objects.none()
        product = self._ebook(self.request, self.kwargs["product_id"])
        return selectors.chapters_of(product).only("position", "title")

    @extend_schema(
        summary="The chapters of a bought e-book, in order (its table of contents)",
        responses={200: ChapterRefOutput(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["ebooks"], parameters=[PRODUCT_ID, POSITION])
class ChapterView(EbookMixin, APIView):
    @extend_schema(
        summary="One chapter of a bought e-book, as HTML, with the previous and next ones",
        responses={200: ChapterOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, product_id: int, position: int) -> Response:
        chapters = selectors.chapters_of(self._ebook(request, product_id))
        chapter = chapters.filter(position=position).first()
        if chapter is None:
            raise NotFound("This book has no such chapter.")
        chapter.previous = (
            chapters.filter(position__lt=position)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        chapter.next = (
            chapters.filter(position__gt=position).values_list("position", flat=True).first()
        )
        return Response(ChapterOutput(chapter).data)


@extend_schema(tags=["ebooks"], parameters=[PRODUCT_ID])
class ProgressView(EbookMixin, APIView):
    @extend_schema(
        summary="Where the member stopped reading",
        description="Before the book is first opened: the start of the first chapter, "
        "0 percent, `updated_at` null.",
        responses={200: ProgressOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, product_id: int) -> Response:
        product = self._ebook(request, product_id)
        progress = selectors.progress_of(user=request.user, product=product)
        if progress is not None:
            return Response(ProgressOutput(_progress_data(progress)).data)
        first = selectors.chapters_of(product).values_list("position", flat=True).first()
        start = {"chapter": first, "position": 0, "percent": Decimal(0), "updated_at": None}
        return Response(ProgressOutput(start).data)

    @extend_schema(
        summary="Save where the member is reading",
        description="Send the chapter's position and the block at the top of the reader; "
        "`percent` is optional.",
        request=ProgressInput,
        responses={
            200: ProgressOutput,
            400: OpenApiResponse(
                description="`invalid`, with field messages (an unknown `chapter`, a negative "
                "`position`, a `percent` outside 0..100)."
            ),
            404: NOT_FOUND,
        },
    )
    def put(self, request: Request, product_id: int) -> Response:
        product = self._ebook(request, product_id)
        serializer = ProgressInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        chapter = selectors.chapters_of(product).filter(position=data["chapter"]).first()
        if chapter is None:
            raise serializers.ValidationError({"chapter": ["This book has no such chapter."]})
        progress = services.reading_progress_save(
            user=request.user,
            product=product,
            chapter=chapter,
            position=data["position"],
            percent=data.get("percent"),
        )
        return Response(ProgressOutput(_progress_data(progress)).data)
