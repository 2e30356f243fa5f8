"""Digital goods: files kept on the private storage, the right of a buyer to download them, each
download, and e-books readable on the site with the reader's place kept."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from catalog.models import Product, ProductVariant
from orders.models import Order, OrderLine


class DigitalAsset(models.Model):
    """A file a digital product delivers (or one of its variants only). The file lives on the
    private storage under `file_name`; it is never served from a public address."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="assets")
    variant = models.ForeignKey(
        ProductVariant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assets",
        help_text="Only buyers of this variant get the file. Empty: every buyer of the product.",
    )
    title = models.CharField(max_length=200)
    file_name = models.CharField(
        max_length=500, editable=False, help_text="Its name on the private storage."
    )
    filename = models.CharField(
        "download name",
        max_length=255,
        editable=False,
        help_text="What the buyer's file is called.",
    )
    size = models.PositiveBigIntegerField(editable=False, help_text="Bytes.")
    checksum = models.CharField("SHA-256", max_length=64, editable=False)
    content_type = models.CharField(max_length=100, editable=False)
    version = models.CharField(max_length=40, default="1")
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive files are kept but no longer offered."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id", "title", "-created_at"]
        indexes = [models.Index(fields=["product", "is_active"], name="downloads_asset_product")]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class Entitlement(models.Model):
    """The right to download a product's files: made when an order with the product is paid
    (or granted by staff), counted per download, ended by its limit, its expiry or a refund."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="entitlements")
    variant = models.ForeignKey(
        ProductVariant, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="entitlements"
    )
    order_line = models.OneToOneField(
        OrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="entitlement"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="entitlements",
    )
    email = models.EmailField(help_text="The buyer's email (a guest has no account).")
    download_limit = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    downloads_used = models.PositiveIntegerField(default=0, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoke_reason = models.CharField(max_length=200, blank=True, editable=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "product"], name="downloads_ent_user_product"),
            models.Index(fields=["order"], name="downloads_ent_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(downloads_used__lte=F("download_limit")),
                name="downloads_entitlement_used_lte_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} for {self.email}"

    @property
    def downloads_left(self) -> int:
        return max(self.download_limit - self.downloads_used, 0)


class DownloadEvent(models.Model):
    """One counted download: who, what, from where."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.CASCADE, related_name="events")
    asset = models.ForeignKey(DigitalAsset, on_delete=models.PROTECT, related_name="events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.asset} at {self.created_at:%Y-%m-%d %H:%M}"


class Chapter(models.Model):
    """A chapter of an e-book (a digital product), written in Markdown and shown sanitized."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="chapters")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(editable=False, help_text="The body rendered and sanitized.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "position"], name="downloads_chapter_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class ReadingProgress(models.Model):
    """Where a reader stopped in an e-book: the chapter, the block within it, and how far
    through the whole book that is."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_progress"
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    chapter = models.ForeignKey(Chapter, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(
        default=0, help_text="The paragraph (block) of the chapter at the top of the reader."
    )
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="downloads_progress_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.product}: {self.percent}%"
