"""Payment attempts and refunds. An order's payment state is derived from its Payment rows;
Stripe's own objects (intents, charges, events) are kept by dj-stripe in its tables."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from catalog.money import ZERO
from orders.models import MONEY, Order, OrderLine


class Payment(models.Model):
    """One attempt to pay an order through one provider (a Stripe PaymentIntent, a transfer)."""

    class Provider(models.TextChoices):
        STRIPE = "stripe", "Card (Stripe)"
        MANUAL = "manual", "Bank transfer / pay on pickup"

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PROCESSING = "processing", "Processing"
        REQUIRES_ACTION = "requires_action", "Needs the shopper's action"
        FAILED = "failed", "Failed"
        SUCCEEDED = "succeeded", "Succeeded"
        CANCELLED = "cancelled", "Cancelled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    reference = models.CharField(
        max_length=100, blank=True, help_text="The provider's id, e.g. a PaymentIntent id."
    )
    amount = models.DecimalField(**MONEY, help_text="What the order asked for.")
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, editable=False
    )
    amount_received = models.DecimalField(**MONEY, default=ZERO, editable=False)
    refunded_amount = models.DecimalField(**MONEY, default=ZERO, editable=False)
    failure_code = models.CharField(max_length=60, blank=True, editable=False)
    failure_message = models.CharField(max_length=300, blank=True, editable=False)
    problem = models.CharField(
        max_length=300, blank=True, editable=False, help_text="Why staff must look at it."
    )
    last_event_id = models.CharField(max_length=100, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["order", "status"], name="payments_payment_order_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "reference"],
                condition=~Q(reference=""),
                name="payments_payment_unique_reference",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount_received")),
                name="payments_payment_refund_lte_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.amount} {self.currency} for {self.order_id}"

    @property
    def refundable(self):
        return self.amount_received - self.refunded_amount


class Refund(models.Model):
    """Money given back on an order: asked for by the shopper and decided by staff, made by
    staff, found at the provider (a refund made in Stripe's dashboard), or automatic (a payment
    that arrived for an order that could no longer be served)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"

    class Origin(models.TextChoices):
        CUSTOMER = "customer", "Requested by the customer"
        STAFF = "staff", "Made by staff"
        PROVIDER = "provider", "Made at the payment provider"
        AUTOMATIC = "automatic", "Automatic"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.REQUESTED, editable=False
    )
    origin = models.CharField(max_length=20, choices=Origin.choices, editable=False)
    reason = models.TextField(max_length=1000, blank=True)
    return_stock = models.BooleanField(
        default=False, help_text="Put the refunded items back in stock when approved."
    )
    reference = models.CharField(
        max_length=100, blank=True, editable=False, help_text="The provider's refund id."
    )
    staff_note = models.CharField(max_length=500, blank=True)
    failure_message = models.CharField(max_length=300, blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open request per order: a second one waits until staff decide the first.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="requested"),
                name="payments_refund_one_open_request",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} {self.currency} on {self.order_id}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["refund", "order_line"], name="payments_refundline_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line_id}"
