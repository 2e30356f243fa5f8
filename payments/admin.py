"""Staff screens of payments and refunds. Payments are records (the gateway and the services
write them); staff act through actions that call the services: confirm a manual payment,
approve or reject a refund. The order page lists its payments and refunds and can record a
payment made outside the store."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from catalog.templatetags.catalog_tags import money
from config.exceptions import ApplicationError
from orders.admin import OrderAdmin, ReadOnlyInline
from orders.models import Order
from payments import services
from payments.models import Payment, Refund, RefundLine


def _order_link(order: Order) -> str:
    url = reverse("admin:orders_order_change", args=[order.pk])
    return format_html('<a href="{}">{}</a>', url, order.number)


def _run(model_admin, request, objects, action, *, done: str) -> None:
    """Call `action` on each object; one message with how many worked and why others did not."""
    worked, refused = 0, []
    for obj in objects:
        try:
            action(obj)
        except ApplicationError as error:
            refused.append(f"#{obj.pk}: {error.message}")
        else:
            worked += 1
    if worked:
        model_admin.message_user(request, f"{worked} {done}.", messages.SUCCESS)
    if refused:
        model_admin.message_user(request, "Not done: " + "; ".join(refused), messages.ERROR)


class ProblemFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "problem"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(problem="")
        if self.value() == "no":
            return queryset.filter(problem="")
        return queryset


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order_number",
        "provider",
        "status",
        "amount_display",
        "refunded_display",
        "problem",
        "created_at",
    ]
    list_filter = ["status", "provider", "currency", ProblemFilter, "created_at"]
    list_select_related = ["order"]
    search_fields = ["order__number", "order__email", "reference"]
    search_help_text = "Search by order number, email or the provider's reference (pi_…)."
    date_hierarchy = "created_at"
    actions = ["confirm_manual"]
    readonly_fields = [
        "order_number",
        "provider",
        "reference",
        "status",
        "amount",
        "currency",
        "amount_received",
        "refunded_amount",
        "failure_code",
        "failure_message",
        "problem",
        "last_event_id",
        "created_by",
        "created_at",
        "updated_at",
        "succeeded_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    @admin.display(description="order", ordering="order__number")
    def order_number(self, payment: Payment) -> str:
        return _order_link(payment.order)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, payment: Payment) -> str:
        return money(payment.amount, payment.currency)

    @admin.display(description="refunded", ordering="refunded_amount")
    def refunded_display(self, payment: Payment) -> str:
        return money(payment.refunded_amount, payment.currency) if payment.refunded_amount else "–"

    @admin.action(description="Confirm manual payment received", permissions=["change"])
    def confirm_manual(self, request, queryset):
        _run(
            self,
            request,
            queryset.select_related("order"),
            lambda p: services.payment_manual_confirm(payment=p, user=request.user),
            done="payment(s) confirmed; their orders are paid",
        )


class RefundLineInline(ReadOnlyInline):
    model = RefundLine
    fields = ["order_line", "quantity"]
    readonly_fields = fields


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    inlines = [RefundLineInline]
    list_display = [
        "id",
        "order_number",
        "status",
        "origin",
        "amount_display",
        "return_stock",
        "created_at",
        "decided_at",
    ]
    list_filter = ["status", "origin", "return_stock", "created_at"]
    list_select_related = ["order"]
    search_fields = ["order__number", "order__email", "reference"]
    search_help_text = "Search by order number, email or the provider's refund id (re_…)."
    actions = ["approve", "approve_and_restock", "reject"]
    fields = [
        "order_number",
        "status",
        "origin",
        "amount",
        "currency",
        "reason",
        "return_stock",
        "staff_note",
        "payment",
        "reference",
        "failure_message",
        "requested_by",
        "decided_by",
        "decided_at",
        "created_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        editable = {"return_stock", "staff_note"}
        if obj is not None and obj.status in (Refund.Status.REQUESTED, Refund.Status.FAILED):
            return [f for f in self.fields if f not in editable]
        return self.fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="order", ordering="order__number")
    def order_number(self, refund: Refund) -> str:
        return _order_link(refund.order)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, refund: Refund) -> str:
        return money(refund.amount, refund.currency)

    def _approve(self, request, queryset, *, return_stock: bool | None):
        _run(
            self,
            request,
            queryset.select_related("order"),
            lambda r: self._approved(
                services.refund_approve(refund=r, user=request.user, return_stock=return_stock)
            ),
            done="refund(s) made; the customers are emailed",
        )

    @staticmethod
    def _approved(refund: Refund) -> None:
        if refund.status == Refund.Status.FAILED:
            raise ApplicationError(f"the payment provider refused: {refund.failure_message}")

    @admin.action(description="Approve and refund", permissions=["change"])
    def approve(self, request, queryset):
        self._approve(request, queryset, return_stock=None)

    @admin.action(
        description="Approve, refund and put the items back in stock", permissions=["change"]
    )
    def approve_and_restock(self, request, queryset):
        self._approve(request, queryset, return_stock=True)

    @admin.action(description="Reject", permissions=["change"])
    def reject(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda r: services.refund_reject(refund=r, user=request.user),
            done="refund request(s) rejected; the customers are emailed",
        )


# --- The order page: its payments and refunds ----------------------------------------------------


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["provider", "status", "amount", "amount_received", "refunded_amount", "problem"]
    readonly_fields = fields
    show_change_link = True


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["status", "origin", "amount", "reason", "created_at"]
    readonly_fields = fields
    show_change_link = True


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "Yes")]

    def queryset(self, request, queryset):
        return queryset.exclude(attention="") if self.value() == "yes" else queryset


class OrderWithPaymentsAdmin(OrderAdmin):
    inlines = [*OrderAdmin.inlines, PaymentInline, RefundInline]
    list_filter = [*OrderAdmin.list_filter, NeedsAttentionFilter]
    actions = [*OrderAdmin.actions, "record_manual_payment"]
    fieldsets = [
        (None, {"fields": [*OrderAdmin.fieldsets[0][1]["fields"], "attention"]}),
        *OrderAdmin.fieldsets[1:],
    ]
    readonly_fields = [*OrderAdmin.readonly_fields, "attention"]

    @admin.action(description="Record a payment received outside the store", permissions=["change"])
    def record_manual_payment(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda order: services.order_pay_manually(order=order, user=request.user),
            done="order(s) paid",
        )


admin.site.unregister(Order)
admin.site.register(Order, OrderWithPaymentsAdmin)
