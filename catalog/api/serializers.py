"""Catalogue API serializers: inputs validate requests, outputs render prefetched products.

Outputs read only what `catalog.selectors` loaded (`product_get`: `active_variants`, `gallery`,
`tag_list`, `active_models_3d`; lists: `product_cards`), so their queries are fixed.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog import selectors
from catalog.models import (
    Category,
    Product,
    ProductVariant,
    StockMovement,
    VariantRules,
)
from catalog.selectors import ProductCard

ZERO = Decimal("0.00")
MONEY = {"max_digits": 12, "decimal_places": 2}
# Integer columns are 32-bit on PostgreSQL: larger numbers must be a 400, not a database error.
INT_MAX = 2**31 - 1


class StockState:
    IN_STOCK = "in_stock"
    LOW = "low"
    SOLD_OUT = "sold_out"
    CHOICES = [IN_STOCK, LOW, SOLD_OUT]


def variant_stock_state(variant: VariantRules) -> str:
    if not variant.is_available:
        return StockState.SOLD_OUT
    return StockState.LOW if variant.is_low_on_stock else StockState.IN_STOCK


def product_stock_state(variants: Sequence[VariantRules]) -> str:
    """Sold out when no variant can be bought; low when every one that can is running low."""
    states = {variant_stock_state(v) for v in variants} - {StockState.SOLD_OUT}
    if not states:
        return StockState.SOLD_OUT
    return StockState.IN_STOCK if StockState.IN_STOCK in states else StockState.LOW


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


# --- Outputs ------------------------------------------------------------------------------------


class CategoryRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class ProductListOutput(serializers.Serializer):
    """A product card: the list renders it with `product_card_data`; the product page (from
    `selectors.product_get`) through `ProductDetailOutput`."""

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
    in_stock = serializers.SerializerMethodField(help_text="Some variant can be bought now.")
    stock_state = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField(
        help_text="400×400 WebP thumbnail of the first image."
    )
    url = serializers.SerializerMethodField(help_text="The product page.")

    @staticmethod
    def _cheapest(product: Product) -> ProductVariant | None:
        # `active_variants` is in display order: among equal prices the first shown wins.
        return min(product.active_variants, key=lambda v: v.price, default=None)

    @extend_schema_field(serializers.ListField(child=serializers.SlugField()))
    def get_tags(self, product: Product) -> list[str]:
        return [tag.slug for tag in product.tag_list]

    @extend_schema_field(serializers.DecimalField(**MONEY, allow_null=True))
    def get_price(self, product: Product) -> str | None:
        cheapest = self._cheapest(product)
        return _money(cheapest.price) if cheapest else None

    @extend_schema_field(serializers.DecimalField(**MONEY, allow_null=True))
    def get_price_max(self, product: Product) -> str | None:
        prices = [v.price for v in product.active_variants]
        return _money(max(prices)) if prices else None

    @extend_schema_field(serializers.DecimalField(**MONEY, allow_null=True))
    def get_compare_at_price(self, product: Product) -> str | None:
        cheapest = self._cheapest(product)
        if cheapest is None or not cheapest.is_on_sale:
            return None
        return _money(cheapest.compare_at_price)

    def get_currency(self, product: Product) -> str:
        cheapest = self._cheapest(product)
        return cheapest.currency if cheapest else settings.STORE_CURRENCY

    def get_in_stock(self, product: Product) -> bool:
        return any(v.is_available for v in product.active_variants)

    @extend_schema_field(serializers.ChoiceField(choices=StockState.CHOICES))
    def get_stock_state(self, product: Product) -> str:
        return product_stock_state(product.active_variants)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, product: Product) -> str | None:
        images = product.gallery
        return absolute_file_url(self.context["request"], images[0].thumbnail) if images else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, product: Product) -> str:
        return self.context["request"].build_absolute_uri(product.get_absolute_url())


def product_card_data(card: ProductCard, absolute: Callable[[str], str]) -> dict:
    """A card of `selectors.product_cards(..., tags=True)` as `ProductListOutput` shows it.

    Written out rather than run through the serializer: a page of 24 cards costs a tenth of the
    time (the serializer stays the documented shape; tests hold both to the same fields).
    """
    cheapest = card.cheapest
    picture = card.picture
    category = card.category
    return {
        "id": card.id,
        "name": card.name,
        "slug": card.slug,
        "kind": card.kind,
        "category": (
            {"id": category.id, "name": category.name, "slug": category.slug} if category else None
        ),
        "tags": card.tags,
        "is_featured": card.is_featured,
        "price": _money(cheapest.price) if cheapest else None,
        "price_max": _money(card.price_max) if cheapest else None,
        "compare_at_price": (
            _money(cheapest.compare_at_price) if cheapest and cheapest.is_on_sale else None
        ),
        "currency": cheapest.currency if cheapest else settings.STORE_CURRENCY,
        "in_stock": any(v.is_available for v in card.variants),
        "stock_state": product_stock_state(card.variants),
        "thumbnail": absolute(picture.thumbnail_url) if picture else None,
        "url": absolute(card.url),
    }


def product_detail_data(product: Product, request, *, staff: bool) -> dict:
    """A product of `selectors.product_get` as `ProductDetailOutput` shows it: its card, then
    the rest. Written out like the card (the serializer took a sixth of the request); tests hold
    both to the same output."""
    absolute = absolute_urls(request)
    variants = product.all_variants if staff else product.active_variants
    models = product.active_models_3d
    data = product_card_data(selectors.card_of(product), absolute)
    data.update(
        description=product.description,
        seo_title=product.seo_title,
        seo_description=product.seo_description,
        status=product.status,
        created_at=DATETIME.to_representation(product.created_at),
        updated_at=DATETIME.to_representation(product.updated_at),
        variants=[_variant_data(variant, staff=staff) for variant in variants],
        images=[
            {
                "id": image.pk,
                "thumbnail": absolute(image.thumbnail_url),
                "large": absolute(image.large_url),
                "original": absolute(image.image.url),
                "alt_text": image.alt_text,
                "variant_id": image.variant_id,
            }
            for image in product.gallery
        ],
        model_3d={
            "file": absolute(models[0].file.url),
            "poster": absolute(models[0].poster.url) if models[0].poster else None,
        }
        if models
        else None,
    )
    return data


DATETIME = serializers.DateTimeField()


def _variant_data(variant: ProductVariant, *, staff: bool) -> dict:
    return {
        "id": variant.pk,
        "sku": variant.sku,
        "name": variant.name,
        "options": {
            str(key): None if value is None else str(value)
            for key, value in variant.options.items()
        },
        "price": _money(variant.price),
        "compare_at_price": _money(variant.compare_at_price)
        if variant.compare_at_price is not None
        else None,
        "currency": variant.currency,
        "in_stock": variant.is_available,
        "stock_state": variant_stock_state(variant),
        "stock": variant.stock if staff else None,
        "cost_price": _money(variant.cost_price)
        if staff and variant.cost_price is not None
        else None,
        "track_inventory": variant.track_inventory,
        "low_stock_threshold": variant.low_stock_threshold,
        "weight_grams": variant.weight_grams,
        "position": variant.position,
        "is_active": variant.is_active,
    }


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


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

    @extend_schema_field(serializers.ChoiceField(choices=StockState.CHOICES))
    def get_stock_state(self, variant: ProductVariant) -> str:
        return variant_stock_state(variant)

    def get_stock(self, variant: ProductVariant) -> int | None:
        return variant.stock if self._staff() else None

    @extend_schema_field(serializers.DecimalField(**MONEY, allow_null=True))
    def get_cost_price(self, variant: ProductVariant) -> str | None:
        if not self._staff() or variant.cost_price is None:
            return None
        return _money(variant.cost_price)


class ImageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    thumbnail = serializers.SerializerMethodField(help_text="400×400 WebP.")
    large = serializers.SerializerMethodField(help_text="Up to 1200×1200, WebP.")
    original = serializers.SerializerMethodField()
    alt_text = serializers.CharField()
    variant_id = serializers.IntegerField(
        allow_null=True, help_text="The variant this image shows, if any."
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, image) -> str:
        return absolute_file_url(self.context["request"], image.thumbnail)

    @extend_schema_field(OpenApiTypes.URI)
    def get_large(self, image) -> str:
        return absolute_file_url(self.context["request"], image.large)

    @extend_schema_field(OpenApiTypes.URI)
    def get_original(self, image) -> str:
        return absolute_file_url(self.context["request"], image.image)


class Model3DOutput(serializers.Serializer):
    file = serializers.SerializerMethodField(help_text="A glTF binary (.glb).")
    poster = serializers.SerializerMethodField(help_text="Shown until the model has loaded.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_file(self, model) -> str:
        return absolute_file_url(self.context["request"], model.file)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_poster(self, model) -> str | None:
        return absolute_file_url(self.context["request"], model.poster)


class ProductDetailOutput(ProductListOutput):
    """A product page. Needs a product from `selectors.product_get`."""

    description = serializers.CharField()
    seo_title = serializers.CharField()
    seo_description = serializers.CharField()
    status = serializers.ChoiceField(choices=Product.Status.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    variants = serializers.SerializerMethodField(
        help_text="Active variants; staff see inactive ones too."
    )
    images = ImageOutput(many=True, source="gallery")
    model_3d = serializers.SerializerMethodField()

    @extend_schema_field(VariantOutput(many=True))
    def get_variants(self, product: Product) -> list[dict]:
        variants = getattr(product, "all_variants", None)
        if variants is None or not self.context.get("staff"):
            variants = product.active_variants
        return VariantOutput(variants, many=True, context=self.context).data

    @extend_schema_field(Model3DOutput(allow_null=True))
    def get_model_3d(self, product: Product) -> dict | None:
        models = product.active_models_3d
        return Model3DOutput(models[0], context=self.context).data if models else None


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
