"""Carts, orders and what shapes their price: shipping methods and discount codes."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.functional import cached_property
from django_countries.fields import CountryField

from catalog.models import ProductVariant, store_currency
from catalog.money import ZERO

MONEY = {"max_digits": 12, "decimal_places": 2}
MAX_LINE_QUANTITY = 99


class Cart(models.Model):
    """A shopper's basket. Members have one; an anonymous cart is found by its token (kept in
    the session on pages, sent as `X-Session-ID` by apps) and merged into the member's on login."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cart",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return f"Cart {self.token}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    # PROTECT: a variant in somebody's cart is taken off sale rather than deleted, so the line
    # can say "no longer available" instead of vanishing.
    variant = models.ForeignKey(ProductVariant, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_LINE_QUANTITY)]
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "variant"], name="orders_cartitem_one_per_variant"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="orders_cartitem_quantity_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant_id}"


class ShippingMethod(models.Model):
    name = models.CharField(max_length=100)
    code = models.SlugField(max_length=40, unique=True)
    description = models.CharField(max_length=200, blank=True)
    fee = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    free_above = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="Orders with a subtotal at or above this ship free. Empty: never free.",
    )
    currency = models.CharField(max_length=3, default=store_currency)
    is_active = models.BooleanField("active", default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "fee", "pk"]

    def __str__(self) -> str:
        return self.name


class DiscountCode(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", "Percentage off the subtotal"
        FIXED = "fixed", "Fixed amount off the subtotal"

    code = models.CharField(max_length=40, unique=True, help_text="Stored in capitals.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    min_subtotal = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many orders may use it in all. Empty: no limit."
    )
    per_customer_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many orders one email address may use it for."
    )
    times_used = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(times_used__lte=F("usage_limit")),
                name="orders_discount_within_usage_limit",
            ),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__lte=100),
                name="orders_discount_percent_lte_100",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Awaiting payment"
        PAID = "paid", "Paid"
        PROCESSING = "processing", "Processing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"
        REFUNDED = "refunded", "Refunded"

    number = models.CharField(max_length=20, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    email = models.EmailField()
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="Guests must confirm their email before paying."
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT, editable=False
    )
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY)
    shipping_total = models.DecimalField(**MONEY, default=ZERO)
    discount_total = models.DecimalField(**MONEY, default=ZERO)
    total = models.DecimalField(**MONEY)
    refunded_total = models.DecimalField(**MONEY, default=ZERO, editable=False)

    shipping_method = models.ForeignKey(
        ShippingMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shipping_method_name = models.CharField(max_length=100, blank=True)
    discount_code = models.CharField(max_length=40, blank=True)

    # The address as it was when the order was placed (an address book entry may change later).
    ship_recipient = models.CharField("recipient", max_length=150, blank=True)
    ship_phone = models.CharField("phone", max_length=32, blank=True)
    ship_line1 = models.CharField("address line 1", max_length=200, blank=True)
    ship_line2 = models.CharField("address line 2", max_length=200, blank=True)
    ship_city = models.CharField("city", max_length=100, blank=True)
    ship_region = models.CharField("state / region", max_length=100, blank=True)
    ship_postal_code = models.CharField("postal code", max_length=20, blank=True)
    ship_country = CountryField("country", blank=True)

    tracking_number = models.CharField(max_length=100, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    customer_note = models.CharField(max_length=500, blank=True)
    attention = models.CharField(
        "needs attention",
        max_length=500,
        blank=True,
        editable=False,
        help_text="Why staff must look at this order (a disputed or mismatched payment...).",
    )

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="An unpaid order is cancelled at this time."
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="orders_order_status_expiry"),
            models.Index(Lower("email"), name="orders_order_email_lower"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="orders_order_total_gte_0"),
            models.CheckConstraint(
                condition=Q(refunded_total__lte=F("total")), name="orders_order_refund_lte_total"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.number])

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def needs_shipping(self) -> bool:
        return bool(self.ship_line1)

    @property
    def has_downloads(self) -> bool:
        """Paid digital lines, whose files wait on the shopper's downloads page."""
        return self.status in PAID_STATUSES and any(line.is_digital for line in self.line_list)

    @cached_property
    def line_list(self) -> list["OrderLine"]:
        """The lines, read once: prefetched by `selectors.orders_with_details`, or as
        `services.order_place` wrote them (an order's lines never change once it is placed)."""
        return list(self.lines.all())

    @cached_property
    def history(self) -> list["OrderStatusChange"]:
        """The status changes, read once: prefetched by `selectors.orders_with_details`, or the
        one `services.order_place` wrote. Read the order again after changing its status."""
        return list(self.status_changes.all())

    @property
    def can_pay(self) -> bool:
        """Payment is open for an unpaid order whose email is confirmed (members: always)."""
        return self.status == self.Status.PENDING_PAYMENT and (
            not self.is_guest or self.email_verified_at is not None
        )


# Statuses in which the shop holds the customer's money.
PAID_STATUSES = frozenset(
    {
        Order.Status.PAID,
        Order.Status.PROCESSING,
        Order.Status.SHIPPED,
        Order.Status.DELIVERED,
        Order.Status.PARTIALLY_REFUNDED,
    }
)


class OrderLine(models.Model):
    """A line as it was bought: names and prices are copied, never looked up again."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # PROTECT: a sold variant is archived, never deleted (catalog.services.product_delete).
    variant = models.ForeignKey(ProductVariant, on_delete=models.PROTECT, related_name="+")
    product_name = models.CharField(max_length=200)
    variant_name = models.CharField(max_length=120, blank=True)
    sku = models.CharField("SKU", max_length=64)
    image = models.CharField(max_length=255, blank=True, help_text="Storage name of the picture.")
    is_digital = models.BooleanField(default=False)
    unit_price = models.DecimalField(**MONEY)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_line_quantity_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class OrderStatusChange(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Order.Status.choices)
    note = models.CharField(max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order} {self.from_status or '-'} → {self.to_status}"


class DiscountRedemption(models.Model):
    """One use of a discount code by one order (per-customer limits count these by email)."""

    discount = models.ForeignKey(DiscountCode, on_delete=models.PROTECT, related_name="redemptions")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="redemption")
    email = models.EmailField()
    amount = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["discount", "email"], name="orders_redemption_by_email")]

    def __str__(self) -> str:
        return f"{self.discount} on {self.order}"
