"""The goods: categories, products, their variants and media, and the stock ledger."""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import get_script_prefix, reverse
from imagekit.models import ImageSpecField
from imagekit.processors import ResizeToFill, ResizeToFit

from catalog.image_names import picture_url

ZERO = Decimal("0.00")


def store_currency() -> str:
    return settings.STORE_CURRENCY


_SLUG_PLACEHOLDER = "0slug0"


@functools.lru_cache(maxsize=16)
def _slug_url_parts(name: str, script_prefix: str) -> tuple[str, str]:
    head, _, tail = reverse(name, args=[_SLUG_PLACEHOLDER]).rpartition(_SLUG_PLACEHOLDER)
    return head, tail


def _slug_urls(name: str) -> Callable[[str], str]:
    """`reverse(name, args=[slug])` for any slug, worked out once per process (and script
    prefix) rather than once per link of a list: a slug has no character that the address
    would need to escape."""
    head, tail = _slug_url_parts(name, get_script_prefix())
    return lambda slug: f"{head}{slug}{tail}"


def product_urls() -> Callable[[str], str]:
    """`product_url` for the many products of a list, the script prefix read once."""
    return _slug_urls("catalog:product")


def product_url(slug: str) -> str:
    """The page of the product with `slug`."""
    return product_urls()(slug)


def category_url(slug: str) -> str:
    """The page of the category with `slug`."""
    return _slug_urls("catalog:category")(slug)


class Category(models.Model):
    """A shelf of the shop. Categories form a tree through `parent`."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    image = models.ImageField(upload_to="categories/", blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Lower numbers come first.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("pk")), name="catalog_category_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return category_url(self.slug)


class Tag(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=70, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet):
    def visible(self, *, staff: bool = False) -> "ProductQuerySet":
        """What the asker may see: shoppers see published products only, staff every product.
        The one rule of the shop, the API, search and orders (`VariantQuerySet.buyable`)."""
        return self if staff else self.filter(status=Product.Status.PUBLISHED)


@dataclass(frozen=True)
class StockState:
    """What a shopper reads about stock: a code (the API's value, the modifier of the `stock`
    CSS class), its words, and the count when the words give it.

    The page cache relies on it: a stock movement that leaves every state a shopper reads as it
    was changes nothing a shopper sees (`catalog.invalidation`).
    """

    code: str
    label: str
    count: int | None = None

    CODES = ("in_stock", "low", "sold_out")


IN_STOCK = StockState("in_stock", "In stock")
FEW_LEFT = StockState("low", "Few left")
SOLD_OUT = StockState("sold_out", "Sold out")


def stock_state(code: str, count: int | None = None) -> StockState:
    """The state of `code`, with its words: "only N left" when the count is given."""
    if code == FEW_LEFT.code:
        return FEW_LEFT if count is None else StockState(code, f"Only {count} left", count)
    return IN_STOCK if code == IN_STOCK.code else SOLD_OUT


class ProductRules:
    """What a product's loaded variants and pictures mean to a shopper: its prices, its stock
    and the picture that shows it.

    Shared by `Product` as `catalog.selectors.product_get` loads it and by the light products
    that cards are worked out from (`catalog.cards`): both carry `active_variants` (in display
    order) and `gallery` (pictures in display order; a card's holds only the first).
    """

    active_variants: Sequence["VariantRules"]
    gallery: Sequence

    @property
    def cheapest(self) -> "VariantRules | None":
        """The lowest price; among equal prices the variant shown first."""
        return min(self.active_variants, key=attrgetter("price"), default=None)

    @property
    def price_max(self) -> Decimal | None:
        return max((v.price for v in self.active_variants), default=None)

    @property
    def price_varies(self) -> bool:
        return len({v.price for v in self.active_variants}) > 1

    @property
    def in_stock(self) -> bool:
        """Some variant can be bought now."""
        return any(v.is_available for v in self.active_variants)

    @property
    def stock_state(self) -> StockState:
        """Sold out only when no variant can be bought; a single variant's own state; "few
        left" when every variant that can be bought is running low."""
        variants = self.active_variants
        if len(variants) == 1:
            return variants[0].stock_state
        available = [v for v in variants if v.is_available]
        if not available:
            return SOLD_OUT
        return FEW_LEFT if all(v.is_low_on_stock for v in available) else IN_STOCK

    @property
    def picture(self):
        """The first picture, or None."""
        return self.gallery[0] if self.gallery else None


class Product(ProductRules, models.Model):
    class Kind(models.TextChoices):
        PHYSICAL = "physical", "Physical goods"
        DIGITAL = "digital", "Digital download"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PHYSICAL)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    is_featured = models.BooleanField("featured", default=False)
    # Digital products: how often, and how long, a buyer may download the files.
    download_limit = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Downloads per purchase. Empty: the store's default (MAX_DOWNLOADS_PER_USER).",
    )
    download_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Days after purchase the files can be downloaded. Empty: no end.",
    )
    seo_title = models.CharField("SEO title", max_length=70, blank=True)
    seo_description = models.CharField("SEO description", max_length=160, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Weighted full-text document (name > tags > description), kept up to date by PostgreSQL
    # triggers (catalog/search.py). Stays empty on SQLite, where search falls back to LIKE.
    search_vector = SearchVectorField(null=True, editable=False)
    # What lists show of it (prices, stock as shoppers read it, first picture, tags), worked
    # out from its variants and media whenever they change: see catalog/cards.py.
    card = models.JSONField(default=dict, editable=False)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="catalog_product_status_new"),
            models.Index(fields=["status", "category"], name="catalog_product_status_cat"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return product_url(self.slug)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class VariantRules:
    """What a variant's price and stock mean to a shopper.

    Shared by `ProductVariant` and the light variants that cards are worked out from
    (`catalog.cards`), which carry the same attributes.
    """

    price: Decimal
    compare_at_price: Decimal | None
    stock: int
    low_stock_threshold: int
    track_inventory: bool
    is_active: bool

    @property
    def is_on_sale(self) -> bool:
        return self.compare_at_price is not None and self.compare_at_price > self.price

    @property
    def is_available(self) -> bool:
        return self.is_active and (not self.track_inventory or self.stock > 0)

    @property
    def is_low_on_stock(self) -> bool:
        return self.track_inventory and self.stock <= self.low_stock_threshold

    @property
    def stock_state(self) -> StockState:
        """What a shopper reads about this variant's stock."""
        if not self.is_available:
            return SOLD_OUT
        if self.is_low_on_stock:
            return stock_state(FEW_LEFT.code, self.stock)
        return IN_STOCK


class VariantQuerySet(models.QuerySet):
    def buyable(self) -> "VariantQuerySet":
        """Variants a shopper can put in a cart: active, of a product shoppers see."""
        return self.filter(is_active=True, product__in=Product.objects.visible())


class ProductVariant(VariantRules, models.Model):
    """What is actually sold: a SKU with its price and stock. Every product has at least one."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(
        max_length=120, blank=True, help_text="Shown in the variant picker, e.g. “iPhone 16”."
    )
    options = models.JSONField(
        default=dict, blank=True, help_text='Option values, e.g. {"phone model": "iPhone 16"}.'
    )
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    compare_at_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="The former price, shown struck through when higher than the price.",
    )
    cost_price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(ZERO)]
    )
    currency = models.CharField(max_length=3, default=store_currency)
    stock = models.IntegerField(
        default=0,
        validators=[MinValueValidator(0)],
        editable=False,
        help_text="Changed only through the stock ledger.",
    )
    low_stock_threshold = models.PositiveIntegerField(default=5)
    track_inventory = models.BooleanField(
        default=True, help_text="Off for goods that never run out, such as downloads."
    )
    is_active = models.BooleanField("active", default=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    objects = VariantQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_variant_stock_gte_0"),
            models.CheckConstraint(condition=Q(price__gte=0), name="catalog_variant_price_gte_0"),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True) | Q(compare_at_price__gte=0),
                name="catalog_variant_compare_at_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} – {self.name}" if self.name else self.product.name

    def save(self, *args, **kwargs) -> None:
        """Saving a variant never writes its stock back.

        Stock moves only through the ledger services, which save `update_fields=["stock"]` on a
        locked row. Any other save (admin forms, CSV import, API edits) holds a stock value read
        earlier; writing it back would undo an order taken in between.
        """
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "stock"
            ]
        super().save(*args, **kwargs)

    @property
    def is_buyable(self) -> bool:
        """Active, of a product shoppers see (`VariantQuerySet.buyable`, for one variant)."""
        return self.is_active and self.product.is_published


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    variant = models.ForeignKey(
        ProductVariant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="images",
        help_text="Optional: show this image when the variant is chosen.",
    )
    image = models.ImageField(upload_to="products/")
    alt_text = models.CharField(
        max_length=200, blank=True, help_text="Describes the image for people who cannot see it."
    )
    position = models.PositiveIntegerField(default=0)

    # Thumbnails are generated when the image is saved and served as WebP.
    thumbnail = ImageSpecField(
        source="image",
        processors=[ResizeToFill(400, 400)],
        format="WEBP",
        options={"quality": 80},
    )
    large = ImageSpecField(
        source="image", processors=[ResizeToFit(1200, 1200)], format="WEBP", options={"quality": 85}
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.alt_text or self.image.name

    @property
    def thumbnail_url(self) -> str:
        return picture_url(ProductImage, "thumbnail", self.image.name)

    @property
    def large_url(self) -> str:
        return picture_url(ProductImage, "large", self.image.name)


class ProductModel3D(models.Model):
    """A 3D model (glTF binary) of a product, uploaded by staff or made by the photo pipeline."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded"
        PIPELINE = "pipeline", "Made from photos"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="models_3d")
    file = models.FileField(upload_to="models3d/", help_text="A .glb file.")
    poster = models.ImageField(upload_to="models3d/posters/", blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOAD)
    is_active = models.BooleanField("shown on the product page", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "3D model"

    def __str__(self) -> str:
        return f"3D model of {self.product}"


class StockMovement(models.Model):
    """One change of a variant's stock. The ledger is append-only: rows are never edited."""

    class Reason(models.TextChoices):
        RESTOCK = "restock", "Stock received"
        CORRECTION = "correction", "Correction (stock count)"
        ORDER_RESERVED = "order_reserved", "Reserved for an order"
        ORDER_RELEASED = "order_released", "Released from an order"
        RETURN = "return", "Returned by a customer"

    variant = models.ForeignKey(
        ProductVariant, on_delete=models.PROTECT, related_name="stock_movements"
    )
    delta = models.IntegerField()
    quantity_after = models.IntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    reference = models.CharField(max_length=100, blank=True, help_text="e.g. an order number.")
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["variant", "-created_at"], name="catalog_stock_variant_new")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_after__gte=0), name="catalog_stock_after_gte_0"
            ),
            models.CheckConstraint(condition=~Q(delta=0), name="catalog_stock_delta_not_0"),
        ]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.variant.sku} ({self.get_reason_display()})"
