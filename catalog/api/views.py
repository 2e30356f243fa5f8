"""Catalogue endpoints under /api/v1/: anyone browses, staff write. Thin: services and selectors
do the work, serializers shape it."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import invalidation, page_cache, selectors, services
from catalog.api import serializers as s
from catalog.filters import ProductFilter
from catalog.models import Product, ProductVariant
from config.api_support.pagination import PageNumberPagination

STAFF_ONLY = "Only staff can change the catalogue."


class IsStaff(BasePermission):
    message = STAFF_ONLY

    def has_permission(self, request: Request, view) -> bool:
        return bool(request.user and request.user.is_staff)


class IsStaffOrReadOnly(IsStaff):
    def has_permission(self, request: Request, view) -> bool:
        return request.method in SAFE_METHODS or super().has_permission(request, view)


def _is_staff(request: Request | None) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_staff)


def _validated(serializer_class, request: Request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@contextmanager
def _unique_races_as_400(sku_field: str) -> Iterator[None]:
    """Input checks find taken SKUs and slugs, but two requests can pass them at once: the
    database's unique index then refuses the second, which is the client's 400, not our 500."""
    try:
        yield
    except IntegrityError as exc:
        text = str(exc).lower()
        if "sku" in text:
            fields = {sku_field: ["A variant with this SKU already exists."]}
        elif "slug" in text:
            fields = {"slug": ["A product with this slug already exists."]}
        else:
            raise
        raise ValidationError(fields) from exc


class CardPagination(PageNumberPagination):
    """Pages of card rows (`selectors.CardPaginator`)."""

    django_paginator_class = selectors.CardPaginator


@extend_schema_view(
    list=extend_schema(
        summary="List products (filter, search, order); shoppers see published ones only",
        responses=s.ProductListOutput(many=True),
    ),
    retrieve=extend_schema(summary="A product by id", responses=s.ProductDetailOutput),
)
@extend_schema(tags=["products"])
class ProductViewSet(viewsets.GenericViewSet):
    """Products: shoppers see published ones and their active variants; staff see all."""

    permission_classes = [IsStaffOrReadOnly]
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    lookup_value_regex = r"\d+"
    pagination_class = CardPagination
    queryset = Product.objects.none()  # for the schema; requests use get_queryset()

    def _staff(self) -> bool:
        return _is_staff(self.request)

    def _context(self) -> dict:
        return {"request": self.request, "staff": self._staff()}

    def _detail_data(self, **lookup) -> dict:
        try:
            product = selectors.product_get(staff=self._staff(), **lookup)
        except Product.DoesNotExist as exc:
            raise Http404 from exc
        return s.ProductDetailOutput(product, context=self._context()).data

    def _detail(self, status_code: int = status.HTTP_200_OK, **lookup) -> Response:
        return Response(self._detail_data(**lookup), status_code)

    def _cached_detail(self, scopes: list[str], **lookup) -> Response:
        build = partial(self._detail_data, **lookup)
        cached = page_cache.cached_api_json(self.request, build, scopes=scopes)
        return cached or self._detail(**lookup)

    def get_queryset(self) -> QuerySet[Product]:
        if getattr(self, "swagger_fake_view", False):
            return Product.objects.none()
        # Writes are for staff only, who see every product.
        return Product.objects.visible(staff=self.action != "list" or self._staff())

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # The filters (and their ordering) belong to the list, which applies them itself (see
        # `_list`); a detail must not 400 on them.
        return queryset

    def list(self, request: Request) -> Response:
        scopes = invalidation.product_list(request.query_params.get("category", ""))
        cached = page_cache.cached_api_json(request, lambda: self._list().data, scopes=scopes)
        return cached or self._list()

    def _list(self) -> Response:
        filterset = DjangoFilterBackend().get_filterset(self.request, self.get_queryset(), self)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        cards = selectors.product_cards(self.paginate_queryset(filterset.qs))
        data = s.ProductListOutput(cards, many=True, context=self._context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return self._cached_detail(invalidation.product_by_id(pk), pk=pk)

    @extend_schema(summary="A product by slug", responses=s.ProductDetailOutput)
    @action(detail=False, methods=["get"], url_path=r"slug/(?P<slug>[-\w]+)", url_name="by-slug")
    def by_slug(self, request: Request, slug: str) -> Response:
        return self._cached_detail(invalidation.product_by_slug(slug), slug=slug)

    @extend_schema(
        summary="Create a product with its variants (staff)",
        request=s.ProductInput,
        responses={201: s.ProductDetailOutput},
    )
    def create(self, request: Request) -> Response:
        data = _validated(s.ProductInput, request)
        tags, variants = data.pop("tags", ()), data.pop("variants")
        with _unique_races_as_400("variants"):
            product = services.product_create(
                data=data, variants=variants, tags=tags, user=request.user
            )
        return self._detail(status.HTTP_201_CREATED, pk=product.pk)

    @extend_schema(
        summary="Replace a product (staff); `variants` is the full list",
        request=s.ProductInput,
        responses=s.ProductDetailOutput,
    )
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        product = self.get_object()
        serializer = s.ProductInput(
            product, data=request.data, partial=partial, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        tags, variants = data.pop("tags", None), data.pop("variants", None)
        with _unique_races_as_400("variants"):
            services.product_update(
                product=product, data=data, variants=variants, tags=tags, user=request.user
            )
        return self._detail(pk=product.pk)

    @extend_schema(
        summary="Change some fields of a product (staff); `variants`, if given, is the full list",
        request=s.ProductInput,
        responses=s.ProductDetailOutput,
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(
        summary="Delete a product, or archive it when it has sales or stock history (staff)",
        responses={
            204: OpenApiResponse(description="Deleted."),
            200: OpenApiResponse(
                s.ProductDetailOutput,
                description="Archived instead: its history must stay. `status` is `archived`.",
            ),
        },
    )
    def destroy(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        if services.product_delete(product=product):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._detail(pk=product.pk)

    @extend_schema(
        summary="Add a variant to a product (staff)",
        request=s.NewVariantInput,
        responses={201: s.VariantOutput},
    )
    @action(detail=True, methods=["post"], url_path="variants", url_name="variants")
    def add_variant(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        data = _validated(s.NewVariantInput, request)
        with _unique_races_as_400("sku"):
            variant = services.variant_save(product=product, data=data, user=request.user)
        return Response(
            s.VariantOutput(variant, context=self._context()).data, status.HTTP_201_CREATED
        )


@extend_schema(tags=["variants"])
class VariantViewSet(viewsets.GenericViewSet):
    """Staff screens of one variant: change it, take it off sale, count and move its stock."""

    permission_classes = [IsStaff]
    filter_backends: list = []
    lookup_value_regex = r"\d+"
    queryset = ProductVariant.objects.select_related("product")

    def _output(self, variant: ProductVariant) -> dict:
        return s.VariantOutput(variant, context={"request": self.request, "staff": True}).data

    @extend_schema(summary="A variant, with its exact stock (staff)", responses=s.VariantOutput)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._output(self.get_object()))

    @extend_schema(
        summary="Change a variant (staff); stock changes through its stock endpoint",
        request=s.VariantInput,
        responses=s.VariantOutput,
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        variant = self.get_object()
        data = _validated(s.VariantInput, request, instance=variant, partial=True)
        with _unique_races_as_400("sku"):
            services.variant_save(
                product=variant.product, data=data, user=request.user, variant=variant
            )
        variant.refresh_from_db()
        return Response(self._output(variant))

    @extend_schema(
        summary="Delete a variant, or take it off sale when it has history (staff)",
        description=(
            "A variant with stock history or sales is never deleted: it is deactivated and "
            "returned (200); send `is_active: true` to put it back on sale."
        ),
        responses={
            204: OpenApiResponse(description="Deleted."),
            200: OpenApiResponse(s.VariantOutput, description="Taken off sale instead."),
        },
    )
    def destroy(self, request: Request, pk: str) -> Response:
        variant = self.get_object()
        if services.variant_delete(variant=variant):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self._output(variant))

    @extend_schema(
        summary="Receive, remove or count stock of a variant (staff)",
        description=(
            "`delta` with a `reason` records a movement; `quantity` records a stock count as a "
            "correction of the difference. Answers with the ledger row, or 204 when a count "
            "matches the stock already recorded."
        ),
        request=s.StockChangeInput,
        responses={
            201: s.StockMovementOutput,
            204: OpenApiResponse(description="The count matches: nothing recorded."),
            409: OpenApiResponse(description="Not enough stock to remove (`insufficient_stock`)."),
        },
    )
    @action(detail=True, methods=["post"])
    def stock(self, request: Request, pk: str) -> Response:
        variant = self.get_object()
        data = _validated(s.StockChangeInput, request)
        if "delta" in data:
            movement = services.stock_adjust(
                variant=variant,
                delta=data["delta"],
                reason=data["reason"],
                user=request.user,
                note=data["note"],
            )
        else:
            movement = services.stock_set(
                variant=variant, quantity=data["quantity"], user=request.user, note=data["note"]
            )
        if movement is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.StockMovementOutput(movement).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The stock ledger of a variant, newest first (staff)",
        responses=s.StockMovementOutput(many=True),
    )
    @action(detail=True, methods=["get"], url_path="stock-movements", url_name="stock-movements")
    def stock_movements(self, request: Request, pk: str) -> Response:
        variant = self.get_object()
        page = self.paginate_queryset(variant.stock_movements.order_by("-created_at", "-pk"))
        return self.get_paginated_response(s.StockMovementOutput(page, many=True).data)


@extend_schema(tags=["categories"])
class CategoryViewSet(viewsets.GenericViewSet):
    permission_classes = [AllowAny]
    filter_backends: list = []

    @extend_schema(
        summary="The category tree: root categories, each with its sub-categories",
        responses=s.CategoryOutput(many=True),
    )
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.category_tree())
        data = s.CategoryOutput(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)
