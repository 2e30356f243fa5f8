"""The staff screens of orders. An order is a record: its lines, money and address are shown, never
edited, and its status moves only through the actions, which call `services.order_transition`."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Sum
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from catalog.templatetags.catalog_tags import money
from orders import services
from orders.admin_forms import CancelForm, DiscountCodeForm, ShipmentForm
from orders.exceptions import IllegalTransition
from orders.models import (
    Cart,
    CartItem,
    DiscountCode,
    Order,
    OrderLine,
    OrderStatusChange,
    ShippingMethod,
)

Status = Order.Status
# Hidden field of the buttons on an order's page: the action then returns to that page.
FROM_ORDER_PAGE = "_from_order_page"
ACTION_BUTTONS = {
    "mark_processing": (Status.PROCESSING, "Mark as processing"),
    "mark_shipped": (Status.SHIPPED, "Mark as shipped…"),
    "mark_delivered": (Status.DELIVERED, "Mark as delivered"),
    "cancel_orders": (Status.CANCELLED, "Cancel order…"),
}


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


# --- Filters ------------------------------------------------------------------------------------


class PaymentFilter(admin.SimpleListFilter):
    title = "payment"
    parameter_name = "payment"

    def lookups(self, request, model_admin):
        return [("paid", "Paid"), ("unpaid", "Not paid")]

    def queryset(self, request, queryset):
        if self.value() in ("paid", "unpaid"):
            return queryset.filter(paid_at__isnull=self.value() == "unpaid")
        return queryset


class CustomerFilter(admin.SimpleListFilter):
    title = "customer"
    parameter_name = "customer"

    def lookups(self, request, model_admin):
        return [("guest", "Guest"), ("member", "Member")]

    def queryset(self, request, queryset):
        if self.value() in ("guest", "member"):
            return queryset.filter(user__isnull=self.value() == "guest")
        return queryset


# --- Orders -------------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "sku",
        "product_name",
        "variant_name",
        "is_digital",
        "unit_price",
        "quantity",
        "line_total",
    ]
    readonly_fields = fields


class OrderStatusChangeInline(ReadOnlyInline):
    """The order's history, oldest first, so it reads top to bottom like a story."""

    model = OrderStatusChange
    fields = ["created_at", "from_status", "to_status", "note", "changed_by"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]
    verbose_name_plural = "status history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    inlines = [OrderLineInline, OrderStatusChangeInline]
    list_display = ["number", "created_at", "email", "status", "total_amount", "paid_at"]
    list_filter = [
        "status",
        ("created_at", admin.DateFieldListFilter),
        PaymentFilter,
        CustomerFilter,
    ]
    date_hierarchy = "created_at"
    # A to-many lookup: the changelist removes the duplicate rows several matching lines make.
    search_fields = ["number", "email", "lines__sku"]
    search_help_text = "Search by order number, email or the SKU of a line."
    actions = ["mark_processing", "mark_shipped", "mark_delivered", "cancel_orders"]
    change_form_template = "admin/orders/order/change_form.html"
    # The shop's order page is the customer's own: staff would get a 404 there.
    view_on_site = False
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "status",
                    "customer",
                    "email",
                    "email_verified_at",
                    "created_at",
                ]
            },
        ),
        (
            "Money",
            {
                "fields": [
                    "currency",
                    "subtotal",
                    "discount_code",
                    "discount_total",
                    "shipping_total",
                    "total",
                    "refunded_total",
                ]
            },
        ),
        (
            "Shipping",
            {
                "fields": [
                    "shipping_method_name",
                    "ship_recipient",
                    "ship_phone",
                    "ship_line1",
                    "ship_line2",
                    "ship_city",
                    "ship_region",
                    "ship_postal_code",
                    "ship_country",
                    "carrier",
                    "tracking_number",
                ]
            },
        ),
        ("Customer’s note", {"fields": ["customer_note"]}),
        (
            "Dates",
            {
                "fields": [
                    "expires_at",
                    "paid_at",
                    "shipped_at",
                    "delivered_at",
                    "cancelled_at",
                    "updated_at",
                ]
            },
        ),
    ]
    readonly_fields = [field for _name, options in fieldsets for field in options["fields"]]

    # An order page is a record to read, not a form: nothing on it is saved by staff.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="total", ordering="total")
    def total_amount(self, order):
        return money(order.total, order.currency)

    @admin.display(description="customer")
    def customer(self, order):
        if order.user is None:
            return "Guest"
        url = reverse("admin:accounts_user_change", args=[order.user_id])
        return format_html('<a href="{}">{}</a>', url, order.user)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context |= {
                "status_actions": self._status_actions(request, obj),
                "from_order_page": FROM_ORDER_PAGE,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _status_actions(self, request, order: Order) -> list[tuple[str, str]]:
        """(name, label) of the buttons of an order's page: the moves its status allows and
        this person may make."""
        available = self.get_actions(request)
        allowed = services.TRANSITIONS.get(order.status, ())
        return [
            (name, label)
            for name, (to, label) in ACTION_BUTTONS.items()
            if name in available and to in allowed
        ]

    # Actions -----------------------------------------------------------------------------------

    def _move(self, request, orders, *, to: str, **changes) -> tuple[list[Order], list[str]]:
        """Move each order through the service; collect those moved and why the others were not."""
        moved, refused = [], []
        for order in orders:
            try:
                services.order_transition(order=order, to=to, user=request.user, **changes)
            except IllegalTransition as error:
                refused.append(self._refusal(order, to, error))
            else:
                moved.append(order)
        return moved, refused

    @staticmethod
    def _refusal(order: Order, to: str, error: IllegalTransition) -> str:
        order.refresh_from_db(fields=["status"])
        if to not in services.TRANSITIONS.get(order.status, ()):
            return f"{order.number} is {order.get_status_display()}"
        return f"{order.number}: {error.message}"

    def _report(self, request, moved: list[Order], refused: list[str], *, verb: str):
        """One message: how many orders moved, and for each one that did not, why."""
        text = f"{_plural(len(moved), 'order')} {verb}"
        if refused:
            text += f", {len(refused)} could not: " + "; ".join(refused)
        level = messages.SUCCESS if not refused else messages.WARNING if moved else messages.ERROR
        self.message_user(request, f"{text.rstrip('.')}.", level)
        return self._back(request)

    def _back(self, request):
        """Back to the order's page when the action was started there, else to the list."""
        order_id = request.POST.get(FROM_ORDER_PAGE, "")
        if order_id.isdigit():
            return redirect("admin:orders_order_change", order_id)
        return None

    def _selected(self, queryset) -> list[Order]:
        return list(queryset.order_by("created_at", "pk"))

    @admin.action(description="Mark as processing", permissions=["change"])
    def mark_processing(self, request, queryset):
        moved, refused = self._move(request, self._selected(queryset), to=Status.PROCESSING)
        return self._report(request, moved, refused, verb="marked as processing")

    @admin.action(description="Mark as delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        moved, refused = self._move(request, self._selected(queryset), to=Status.DELIVERED)
        return self._report(request, moved, refused, verb="marked as delivered")

    @admin.action(description="Mark as shipped…", permissions=["change"])
    def mark_shipped(self, request, queryset):
        orders = self._selected(queryset)
        # Only orders that can take the move get a form; the page names the others.
        shippable = [
            order
            for order in orders
            if Status.SHIPPED in services.TRANSITIONS.get(order.status, ()) and order.needs_shipping
        ]
        skipped = [self._shipping_refusal(order) for order in orders if order not in shippable]
        if not shippable:
            return self._report(request, [], skipped, verb="marked as shipped")
        data = request.POST if "apply" in request.POST else None
        forms = [ShipmentForm(data, order=order) for order in shippable]
        valid = [form.is_valid() for form in forms]  # every form, so each shows its errors
        if data is not None and all(valid):
            moved, refused = [], list(skipped)
            for form in forms:
                done, not_done = self._move(
                    request,
                    [form.order],
                    to=Status.SHIPPED,
                    tracking_number=form.cleaned_data["tracking_number"],
                    carrier=form.cleaned_data["carrier"],
                )
                moved += done
                refused += not_done
            return self._report(request, moved, refused, verb="marked as shipped")
        return self._confirmation(
            request,
            orders,
            title="Mark as shipped",
            action="mark_shipped",
            template="admin/orders/order/mark_shipped.html",
            forms=forms,
            skipped=skipped,
        )

    @staticmethod
    def _shipping_refusal(order: Order) -> str:
        if not order.needs_shipping:
            return f"{order.number} has nothing to ship"
        return f"{order.number} is {order.get_status_display()}"

    @admin.action(description="Cancel orders…", permissions=["change"])
    def cancel_orders(self, request, queryset):
        orders = self._selected(queryset)
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["note"].strip()
            note = f"Cancelled by staff: {reason}" if reason else "Cancelled by staff"
            moved, refused = self._move(request, orders, to=Status.CANCELLED, note=note)
            return self._report(request, moved, refused, verb="cancelled")
        cancellable = [
            order
            for order in orders
            if Status.CANCELLED in services.TRANSITIONS.get(order.status, ())
        ]
        skipped = [
            f"{order.number} is {order.get_status_display()}"
            for order in orders
            if order not in cancellable
        ]
        return self._confirmation(
            request,
            orders,
            title="Cancel orders",
            action="cancel_orders",
            template="admin/orders/order/cancel_orders.html",
            forms=[form],
            skipped=skipped,
            paid=[order for order in cancellable if order.paid_at],
        )

    def _confirmation(self, request, orders, *, title, action, template, forms, **extra):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "orders": orders,
            "forms": forms,
            "action_name": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "from_order_page": FROM_ORDER_PAGE,
            "from_order_page_value": request.POST.get(FROM_ORDER_PAGE, ""),
            **extra,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, template, context)


# --- Discount codes and shipping methods --------------------------------------------------------


@admin.register(DiscountCode)
class DiscountCodeAdmin(admin.ModelAdmin):
    form = DiscountCodeForm
    list_display = [
        "code",
        "kind",
        "value",
        "min_subtotal",
        "starts_at",
        "ends_at",
        "usage",
        "is_active",
    ]
    list_filter = ["is_active", "kind"]
    search_fields = ["code"]
    search_help_text = "Search by code."
    readonly_fields = ["times_used", "created_at"]
    fieldsets = [
        (None, {"fields": ["code", "kind", "value", "min_subtotal", "is_active"]}),
        ("When", {"fields": ["starts_at", "ends_at"]}),
        ("Limits", {"fields": ["usage_limit", "per_customer_limit", "times_used"]}),
        ("Dates", {"classes": ["collapse"], "fields": ["created_at"]}),
    ]

    @admin.display(description="used", ordering="times_used")
    def usage(self, discount):
        if discount.usage_limit is None:
            return str(discount.times_used)
        return f"{discount.times_used} of {discount.usage_limit}"


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "fee", "free_above", "currency", "is_active", "position"]
    list_display_links = ["name"]
    list_editable = ["fee", "free_above", "is_active", "position"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


# --- Carts (read-only, for support) -------------------------------------------------------------


class CartItemInline(ReadOnlyInline):
    model = CartItem
    fields = ["variant", "quantity", "added_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """What a shopper has in their cart, to help them on the phone. Nobody edits it here."""

    inlines = [CartItemInline]
    list_display = ["token", "user", "updated_at", "line_count", "item_count"]
    list_select_related = ["user"]
    list_filter = [("user", admin.EmptyFieldListFilter), ("updated_at", admin.DateFieldListFilter)]
    search_fields = ["token", "user__email"]
    search_help_text = "Search by the member’s email or the cart token."
    ordering = ["-updated_at"]
    fields = ["token", "user", "created_at", "updated_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(lines_total=Count("items"), items_total=Sum("items__quantity"))
        )

    @admin.display(description="lines", ordering="lines_total")
    def line_count(self, cart):
        return cart.lines_total

    @admin.display(description="items", ordering="items_total")
    def item_count(self, cart):
        return cart.items_total or 0

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
