"""Catalogue API serializers: inputs validate requests, outputs render prefetched products.

Outputs read only what `catalog.selectors` loaded (`product_get`: `active_variants`, `gallery`,
`tag_list`, `model_3d`; lists: `product_cards`), so their queries are fixed. Each
output is the one definition of its shape: responses and the OpenAPI schema both come from it.
"""

import re
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVariant,
    StockMovement,
    StockState,
)
from catalog.money import CENT
from catalog.selectors import ProductCard

ZERO = Decimal("0.00")
MONEY = {"max_digits": 12, "decimal_places": 2}
# Integer columns are 32-bit on PostgreSQL: larger numbers must be a 400, not a database error.
INT_MAX = 2**31 - 1


# What `iri_to_uri` leaves as it is: a path made only of these needs no quoting.
_URI_SAFE_PATH = re.compile(r"/(?!/)[A-Za-z0-9/#%\[\]=:;$&()+,!?*@'~._-]*")


def absolute_urls(request) -> Callable[[str], str]:
    """`request.build_absolute_uri`, with a shortcut for the plain paths the store makes (a page
    of the product list makes 48 of them); any other location goes the long way."""
    origin = request.build_absolute_uri("/")[:-1]

    def absolute(location: str) -> str:
        plain = _URI_SAFE_PATH.fullmatch(location) and "/." not in location
        return origin + location if plain else request.build_absolute_uri(location)

    return absolute


def absolute_file_url(request, file) -> str | None:
    """The absolute URL of a file or image field (or imagekit spec), None when empty."""
    if not file:
        return None
    return request.build_absolute_uri(file.url)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


URI = OpenApiTypes.URI
NULLABLE_URI = {"type": "string", "format": "uri", "nullable": True}
NULLABLE_MONEY = serializers.DecimalField(**MONEY, allow_null=True)
STOCK_STATES = serializers.ChoiceField(choices=StockState.CODES)
# What a list shows: the same attributes on both.
Listed = ProductCard | Product


class AbsoluteUrls:
    """Absolute URLs of the store's paths, worked out once per response (a list makes many)."""

    def _absolute(self, location: str) -> str:
        context = self.context
        if "absolute" not in context:
            context["absolute"] = absolute_urls(context["request"])
        return context["absolute"](location)


# --- Outputs ------------------------------------------------------------------------------------


class CategoryRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class ProductListOutput(AbsoluteUrls, serializers.Serializer):
    """A product as lists show it: a card of `selectors.product_cards`, or a product of
    `selectors.product_get` (the first fields of `ProductDetailOutput`), which carry the same
    attributes (those of `ProductRules`, and `tag_list`)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    kind = serializers.ChoiceField(choices=Product.Kind.choices)
    category = CategoryRefOutput(allow_null=True)
    tags = serializers.SerializerMethodField(help_text="Tag slugs.")
    is_featured = serializers.BooleanField()
    price = serializers.SerializerMethodField(help_text="Lowest price of the active variants.")
    price_max = serializers.SerializerMethodField(help_text="Highest price of the active variants.")
    compare_at_price = serializers.SerializerMethodField(
        help_text="The former price of the cheapest variant when it is on sale, else null."
    )
    currency = serializers.SerializerMethodField()
    in_stock = serializers.BooleanField(help_text="Some variant can be bought now.")
    stock_state = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField(
        help_text="400×400 WebP thumbnail of the first image; null without images."
    )
    url = serializers.SerializerMethodField(help_text="The product page.")

    @extend_schema_field(serializers.ListField(child=serializers.SlugField()))
    def get_tags(self, product: Listed) -> list[str]:
        return [tag.slug for tag in product.tag_list]

    @extend_schema_field(NULLABLE_MONEY)
    def get_price(self, product: Listed) -> str | None:
        cheapest = product.cheapest
        return _money(cheapest.price) if cheapest else None

    @extend_schema_field(NULLABLE_MONEY)
    def get_price_max(self, product: Listed) -> str | None:
        return _money(product.price_max)

    @extend_schema_field(NULLABLE_MONEY)
    def get_compare_at_price(self, product: Listed) -> str | None:
        cheapest = product.cheapest
        return _money(cheapest.compare_at_price) if cheapest and cheapest.is_on_sale else None

    def get_currency(self, product: Listed) -> str:
        cheapest = product.cheapest
        return cheapest.currency if cheapest else settings.STORE_CURRENCY

    @extend_schema_field(STOCK_STATES)
    def get_stock_state(self, product: Listed) -> str:
        return product.stock_state.code

    @extend_schema_field(NULLABLE_URI)
    def get_thumbnail(self, product: Listed) -> str | None:
        picture = product.picture
        return self._absolute(picture.thumbnail_url) if picture else None

    @extend_schema_field(URI)
    def get_url(self, product: Listed) -> str:
        return self._absolute(product.get_absolute_url())


class VariantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    options = serializers.DictField(child=serializers.CharField())
    price = serializers.DecimalField(**MONEY)
    compare_at_price = serializers.DecimalField(**MONEY, allow_null=True)
    currency = serializers.CharField()
    in_stock = serializers.BooleanField(source="is_available", help_text="Can be bought now.")
    stock_state = serializers.SerializerMethodField()
    stock = serializers.SerializerMethodField(help_text="Exact stock; staff only, else null.")
    cost_price = serializers.SerializerMethodField(help_text="Staff only, else null.")
    track_inventory = serializers.BooleanField()
    low_stock_threshold = serializers.IntegerField()
    weight_grams = serializers.IntegerField(allow_null=True)
    position = serializers.IntegerField()
    is_active = serializers.BooleanField()

    def _staff(self) -> bool:
        return bool(self.context.get("staff"))

    @extend_schema_field(STOCK_STATES)
    def get_stock_state(self, variant: ProductVariant) -> str:
        return variant.stock_state.code

    def get_stock(self, variant: ProductVariant) -> int | None:
        return variant.stock if self._staff() else None

    @extend_schema_field(NULLABLE_MONEY)
    def get_cost_price(self, variant: ProductVariant) -> str | None:
        return _money(variant.cost_price) if self._staff() else None


class ImageOutput(AbsoluteUrls, serializers.Serializer):
    id = serializers.IntegerField()
    thumbnail = serializers.SerializerMethodField(help_text="400×400 WebP.")
    large = serializers.SerializerMethodField(help_text="Up to 1200×1200, WebP.")
    original = serializers.SerializerMethodField()
    alt_text = serializers.CharField()
    variant_id = serializers.IntegerField(
        allow_null=True, help_text="The variant this image shows, if any."
    )

    @extend_schema_field(URI)
    def get_thumbnail(self, image: ProductImage) -> str:
        return self._absolute(image.thumbnail_url)

    @extend_schema_field(URI)
    def get_large(self, image: ProductImage) -> str:
        return self._absolute(image.large_url)

    @extend_schema_field(URI)
    def get_original(self, image: ProductImage) -> str:
        return self._absolute(image.image.url)


class Model3DOutput(AbsoluteUrls, serializers.Serializer):
    file = serializers.SerializerMethodField(help_text="A glTF binary (.glb).")
    poster = serializers.SerializerMethodField(help_text="Shown until the model has loaded.")

    @extend_schema_field(URI)
    def get_file(self, model: ProductModel3D) -> str:
        return self._absolute(model.file.url)

    @extend_schema_field(NULLABLE_URI)
    def get_poster(self, model: ProductModel3D) -> str | None:
        return self._absolute(model.poster.url) if model.poster else None


class ProductDetailOutput(ProductListOutput):
    """A product page. Needs a product from `selectors.product_get`; staff (`context["staff"]`)
    also see the variants taken off sale and their exact stock."""

    description = serializers.CharField()
    seo_title = serializers.CharField()
    seo_description = serializers.CharField()
    status = serializers.ChoiceField(choices=Product.Status.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    variants = VariantOutput(
        many=True, source="variant_list", help_text="Active variants; staff see inactive ones too."
    )
    images = ImageOutput(many=True, source="gallery")
    model_3d = Model3DOutput(allow_null=True)


class CategoryOutput(serializers.Serializer):
    """One category of the tree (a `selectors.CategoryNode`) with its sub-categories."""

    id = serializers.IntegerField(source="category.pk")
    name = serializers.CharField(source="category.name")
    slug = serializers.SlugField(source="category.slug")
    description = serializers.CharField(source="category.description")
    image = serializers.SerializerMethodField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["children"] = CategoryOutput(many=True)
        return fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_image(self, node) -> str | None:
        return absolute_file_url(self.context["request"], node.category.image)


class StockMovementOutput(serializers.ModelSerializer):
    created_by_id = serializers.IntegerField(allow_null=True, help_text="The staff user, if any.")

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "variant_id",
            "delta",
            "quantity_after",
            "reason",
            "reference",
            "note",
            "created_by_id",
            "created_at",
        ]
        read_only_fields = fields


# --- Inputs -------------------------------------------------------------------------------------


class VariantInput(serializers.Serializer):
    """A variant to create or change. Stock changes only through the stock endpoint."""

    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    options = serializers.DictField(child=serializers.CharField(max_length=120), required=False)
    price = serializers.DecimalField(**MONEY, min_value=ZERO)
    compare_at_price = serializers.DecimalField(
        **MONEY, min_value=ZERO, required=False, allow_null=True
    )
    cost_price = serializers.DecimalField(**MONEY, min_value=ZERO, required=False, allow_null=True)
    currency = serializers.CharField(min_length=3, max_length=3, required=False)
    low_stock_threshold = serializers.IntegerField(min_value=0, max_value=INT_MAX, required=False)
    track_inventory = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    weight_grams = serializers.IntegerField(
        min_value=0, max_value=INT_MAX, required=False, allow_null=True
    )
    position = serializers.IntegerField(min_value=0, max_value=INT_MAX, required=False)

    def validate_currency(self, value: str) -> str:
        return value.upper()

    def validate(self, data: dict) -> dict:
        if "stock" not in self.fields and "stock" in self.initial_data:
            raise serializers.ValidationError(
                {"stock": ["Change the stock through the variant's stock endpoint."]}
            )
        return data

    def validate_sku(self, value: str) -> str:
        value = value.strip()
        taken = ProductVariant.objects.filter(sku=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A variant with this SKU already exists.")
        return value


class NewVariantInput(VariantInput):
    stock = serializers.IntegerField(
        min_value=0,
        max_value=INT_MAX,
        required=False,
        help_text="Initial stock, recorded in the ledger as received.",
    )


class ProductVariantInput(NewVariantInput):
    """A variant inside a product write. With `id` it changes that variant of the product."""

    id = serializers.IntegerField(required=False, help_text="Omit for a new variant.")

    def validate_sku(self, value: str) -> str:
        # Several variants are checked together by the product input (their own SKUs may swap).
        return value.strip()

    def validate(self, data: dict) -> dict:
        data = super().validate(data)
        if "id" in data and "stock" in data:
            raise serializers.ValidationError(
                {"stock": ["Change the stock of an existing variant through its stock endpoint."]}
            )
        return data


class ProductInput(serializers.Serializer):
    """A product with its variants. Create and PUT need `name` and `variants`; PATCH needs
    nothing. Optional fields left out keep their values (on create: the model defaults)."""

    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(
        max_length=220, required=False, help_text="Made from the name when omitted."
    )
    description = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=Product.Kind.choices, required=False)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    is_featured = serializers.BooleanField(required=False)
    seo_title = serializers.CharField(max_length=70, required=False, allow_blank=True)
    seo_description = serializers.CharField(max_length=160, required=False, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        help_text="Tag names; new ones are created.",
    )
    variants = ProductVariantInput(
        many=True,
        allow_empty=False,
        help_text=(
            "At least one. On update, the full list: variants with an `id` are changed, those "
            "without are created, and those left out are deactivated."
        ),
    )

    def validate_slug(self, value: str) -> str:
        taken = Product.objects.filter(slug=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A product with this slug already exists.")
        return value

    def validate_variants(self, variants: list[dict]) -> list[dict]:
        product = self.instance
        own_ids = set(product.variants.values_list("pk", flat=True)) if product else set()
        # Keyed by position in the list, like DRF's own errors of the variants' fields.
        errors: dict[int, dict] = defaultdict(dict)
        for index, variant in enumerate(variants):
            if "id" in variant and variant["id"] not in own_ids:
                errors[index]["id"] = ["This product has no variant with this id."]
            elif "id" not in variant:
                # On PATCH the nested fields are optional; a new variant still needs these.
                for field in ("sku", "price"):
                    if field not in variant:
                        errors[index][field] = ["A new variant needs this field."]
        skus = [v["sku"] for v in variants if "sku" in v]
        listed_ids = [v["id"] for v in variants if "id" in v]
        taken = set(
            ProductVariant.objects.filter(sku__in=skus)
            .exclude(pk__in=listed_ids)
            .values_list("sku", flat=True)
        )
        for index, variant in enumerate(variants):
            sku = variant.get("sku")
            if sku in taken:
                errors[index]["sku"] = ["A variant with this SKU already exists."]
            elif sku is not None and skus.count(sku) > 1:
                errors[index]["sku"] = ["Each variant needs its own SKU."]
        if errors:
            raise serializers.ValidationError(dict(errors))
        return variants


class StockChangeInput(serializers.Serializer):
    """Either a movement (`delta` with a `reason`) or a stock count (`quantity`)."""

    REASONS = [
        StockMovement.Reason.RESTOCK,
        StockMovement.Reason.CORRECTION,
        StockMovement.Reason.RETURN,
    ]

    delta = serializers.IntegerField(
        required=False,
        min_value=-INT_MAX,
        max_value=INT_MAX,
        help_text="Units received (positive) or removed (negative).",
    )
    reason = serializers.ChoiceField(choices=[(r.value, r.label) for r in REASONS], required=False)
    quantity = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=INT_MAX,
        help_text="The counted stock: the difference is recorded.",
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("A stock movement needs a non-zero delta.")
        return value

    def validate(self, data: dict) -> dict:
        if ("delta" in data) == ("quantity" in data):
            raise serializers.ValidationError("Send either `delta` (with `reason`) or `quantity`.")
        if "delta" in data and "reason" not in data:
            raise serializers.ValidationError({"reason": ["Say why the stock changes."]})
        if "quantity" in data and "reason" in data:
            raise serializers.ValidationError(
                {"reason": ["A stock count is always recorded as a correction."]}
            )
        return data
