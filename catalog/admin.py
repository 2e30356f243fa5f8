"""The staff screens of the catalogue. Writes that carry business rules go through the services:
status and featuring, deleting products (archived when their history must stay) and every change
of stock (through the ledger)."""

from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin import helpers
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.utils import NestedObjects
from django.contrib.contenttypes.models import ContentType
from django.db import router
from django.db.models import Count, Exists, OuterRef, Subquery, Sum
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV

from catalog import selectors, services
from catalog.admin_forms import StockAdjustForm, VariantForm, VariantInlineForm
from catalog.exceptions import CatalogError
from catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVariant,
    StockMovement,
    Tag,
)
from catalog.resources import VariantResource

Reason = StockMovement.Reason
ARCHIVE_NOTE = (
    "Products that were sold or have stock history cannot be removed: they will be archived "
    "instead (hidden from the shop, their history kept). The others are deleted."
)

# A warning, not a green tick: being low on stock is the state that needs attention.
LOW_MARKER = format_html('<strong style="color: var(--error-fg, #ba2121)">{}</strong>', "Low")


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


# --- Filters ------------------------------------------------------------------------------------


class ProductStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", "Low stock"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(
                Exists(selectors.low_stock_variants().filter(product=OuterRef("pk")))
            )
        if self.value() == "out":
            return selectors.filter_in_stock(queryset, False)
        return queryset


class VariantStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", "Low stock"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(pk__in=selectors.low_stock_variants().values("pk"))
        if self.value() == "out":
            return queryset.filter(track_inventory=True, stock__lte=0)
        return queryset


# --- Products -----------------------------------------------------------------------------------


class VariantInline(admin.TabularInline):
    model = ProductVariant
    form = VariantInlineForm
    fields = [
        "sku",
        "name",
        "options",
        "price",
        "compare_at_price",
        "cost_price",
        "stock",
        "initial_stock",
        "low_stock_threshold",
        "track_inventory",
        "is_active",
        "position",
    ]
    readonly_fields = ["stock"]
    min_num = 1
    # Variants keep their sales and ledger history: they are retired (untick "active"), not
    # deleted.
    can_delete = False
    show_change_link = True

    def get_extra(self, request, obj=None, **kwargs):
        # A new product shows exactly one row (the required one); a saved one offers a spare row.
        return 0 if obj is None else 1


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    fields = ["preview", "image", "alt_text", "variant", "position"]
    readonly_fields = ["preview"]
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Only this product's variants can be tied to its images.
        variants = formset.form.base_fields["variant"]
        variants.queryset = (
            ProductVariant.objects.filter(product=obj) if obj else variants.queryset.none()
        )
        return formset

    @admin.display(description="Preview")
    def preview(self, image: ProductImage):
        if not image.pk or not image.image:
            return "—"
        try:
            url = image.thumbnail.url
        except (OSError, ValueError):  # source file missing or unreadable
            return "—"
        return format_html(
            '<img src="{}" alt="{}" width="80" height="80" style="object-fit: cover">',
            url,
            image.alt_text,
        )


class ProductModel3DInline(admin.TabularInline):
    model = ProductModel3D
    fields = ["file", "poster", "source", "is_active", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    inlines = [VariantInline, ProductImageInline, ProductModel3DInline]
    list_display = [
        "name",
        "category",
        "status",
        "kind",
        "is_featured",
        "total_stock",
        "low_stock",
        "price_range",
    ]
    list_filter = ["status", "category", "kind", "is_featured", ProductStockFilter]
    list_select_related = ["category"]
    # A to-many lookup: the changelist removes the duplicate rows several matching SKUs make.
    search_fields = ["name", "variants__sku"]
    search_help_text = "Search by product name or variant SKU."
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["tags"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["publish", "archive", "feature", "unfeature", "delete_selected"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "category", "status", "is_featured"]}),
        (None, {"fields": ["description", "tags"]}),
        ("Downloads (digital products)", {"fields": ["download_limit", "download_days"]}),
        ("Search engines", {"classes": ["collapse"], "fields": ["seo_title", "seo_description"]}),
        ("Dates", {"classes": ["collapse"], "fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        # Stock, price range and the low-stock marker come from subqueries, so the changelist
        # costs the same number of queries for 3 products or 300.
        active = ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)
        tracked_stock = (
            active.filter(track_inventory=True)
            .order_by()
            .values("product")
            .annotate(total=Sum("stock"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                total_stock_value=Subquery(tracked_stock),
                min_price=Subquery(active.order_by("price").values("price")[:1]),
                max_price=Subquery(active.order_by("-price").values("price")[:1]),
                has_low_stock=Exists(selectors.low_stock_variants().filter(product=OuterRef("pk"))),
            )
        )

    @admin.display(description="stock", ordering="total_stock_value")
    def total_stock(self, product):
        return "—" if product.total_stock_value is None else product.total_stock_value

    @admin.display(description="low stock", ordering="-has_low_stock")
    def low_stock(self, product):
        return LOW_MARKER if product.has_low_stock else ""

    @admin.display(description="price", ordering="min_price")
    def price_range(self, product):
        if product.min_price is None:
            return "—"
        # SQLite hands subquery decimals back unscaled (30 for 30.00): format them here.
        low, high = f"{product.min_price:.2f}", f"{product.max_price:.2f}"
        return low if low == high else f"{low} – {high}"

    # Actions -------------------------------------------------------------------------------

    def _status_action(self, request, queryset, status: str, verb: str) -> None:
        changed = services.product_set_status(products=queryset, status=status)
        self.message_user(request, f"{_plural(changed, 'product')} {verb}.", messages.SUCCESS)

    @admin.action(description="Publish selected products", permissions=["change"])
    def publish(self, request, queryset):
        self._status_action(request, queryset, Product.Status.PUBLISHED, "published")

    @admin.action(description="Archive selected products", permissions=["change"])
    def archive(self, request, queryset):
        self._status_action(request, queryset, Product.Status.ARCHIVED, "archived")

    @admin.action(description="Feature selected products", permissions=["change"])
    def feature(self, request, queryset):
        changed = services.product_set_featured(products=queryset, featured=True)
        self.message_user(request, f"{_plural(changed, 'product')} featured.", messages.SUCCESS)

    @admin.action(description="Stop featuring selected products", permissions=["change"])
    def unfeature(self, request, queryset):
        changed = services.product_set_featured(products=queryset, featured=False)
        self.message_user(
            request, f"{_plural(changed, 'product')} no longer featured.", messages.SUCCESS
        )

    # Initial stock of new variants -----------------------------------------------------------

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProductVariant:
            return super().save_formset(request, form, formset, change)
        new_rows = [f for f in formset.forms if f.instance.pk is None]
        super().save_formset(request, form, formset, change)
        for row in new_rows:
            variant, quantity = row.instance, row.cleaned_data.get("initial_stock")
            if variant.pk is not None and quantity and variant.track_inventory:
                services.stock_adjust(
                    variant=variant,
                    delta=quantity,
                    reason=Reason.RESTOCK,
                    user=request.user,
                    note="Initial stock",
                )
        return None

    # Deleting: through product_delete, which archives products whose history must stay -----

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            # Not a dead end: product_delete archives these products and their history stays,
            # so removing the history rows needs no permission either.
            collector = NestedObjects(using=router.db_for_write(Product))
            collector.collect(objs)
            kept = {str(type(obj)._meta.verbose_name) for obj in collector.protected}
            perms_needed = {name for name in perms_needed if str(name) not in kept}
        request.products_to_archive = bool(protected)
        return deleted, model_count, perms_needed, []

    def render_delete_form(self, request, context):
        if getattr(request, "products_to_archive", False):
            context["archive_note"] = ARCHIVE_NOTE
        return super().render_delete_form(request, context)

    def log_deletions(self, request, queryset):
        # Logged by _delete_products once it is known whether each product went or was archived.
        return []

    def _delete_products(self, request, products) -> tuple[list[str], list[str]]:
        deleted, archived = [], []
        content_type = ContentType.objects.get_for_model(Product)
        for product in products:
            name, pk = str(product), product.pk
            if services.product_delete(product=product):
                deleted.append(name)
                LogEntry.objects.create(
                    user_id=request.user.pk,
                    content_type=content_type,
                    object_id=str(pk),
                    object_repr=name[:200],
                    action_flag=DELETION,
                )
            else:
                archived.append(name)
                self.log_change(request, product, "Archived instead of deleted (has history).")
        return deleted, archived

    def delete_model(self, request, obj):
        _deleted, archived = self._delete_products(request, [obj])
        request.product_archived = bool(archived)

    def delete_queryset(self, request, queryset):
        self._delete_products(request, queryset)

    def response_delete(self, request, obj_display, obj_id):
        if not getattr(request, "product_archived", False):
            return super().response_delete(request, obj_display, obj_id)
        self.message_user(
            request,
            f"“{obj_display}” has sales or stock history, so it was archived instead of deleted.",
            messages.WARNING,
        )
        return self.response_post_save_change(request, None)

    @admin.action(description="Delete selected products", permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Django's bulk delete (same confirmation page), going through product_delete."""
        if not request.POST.get("post"):
            response = admin_actions.delete_selected(self, request, queryset)
            if getattr(request, "products_to_archive", False):
                response.context_data["archive_note"] = ARCHIVE_NOTE
            return response
        deleted, archived = self._delete_products(request, queryset)
        if deleted:
            self.message_user(request, f"{_plural(len(deleted), 'product')} deleted.")
        if archived:
            self.message_user(
                request,
                f"{_plural(len(archived), 'product')} archived instead of deleted, because of "
                f"their sales or stock history: {', '.join(archived)}.",
                messages.WARNING,
            )
        return None


# --- Variants and stock -------------------------------------------------------------------------

LEDGER_ROWS_SHOWN = 20


class RecentMovementsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        return super().get_queryset()[:LEDGER_ROWS_SHOWN]


class StockMovementInline(admin.TabularInline):
    """The latest ledger rows of a variant; the full history is one click away."""

    model = StockMovement
    formset = RecentMovementsFormSet
    fields = ["created_at", "delta", "quantity_after", "reason", "reference", "note", "created_by"]
    readonly_fields = fields
    verbose_name_plural = f"latest stock movements (up to {LEDGER_ROWS_SHOWN})"
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant", "created_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProductVariant)
class ProductVariantAdmin(ImportExportModelAdmin):
    form = VariantForm
    resource_classes = [VariantResource]
    formats = [CSV]
    inlines = [StockMovementInline]
    list_display = [
        "sku",
        "product",
        "name",
        "price",
        "compare_at_price",
        "stock",
        "low_stock_threshold",
        "low_stock",
        "is_active",
    ]
    list_display_links = ["sku"]
    list_editable = ["price", "compare_at_price", "low_stock_threshold", "is_active"]
    list_filter = [VariantStockFilter, "track_inventory", "is_active", "product__status"]
    list_select_related = ["product"]
    search_fields = ["sku", "product__name"]
    search_help_text = "Search by SKU or product name."
    autocomplete_fields = ["product"]
    readonly_fields = ["stock", "ledger"]
    actions = ["adjust_stock"]
    fieldsets = [
        (None, {"fields": ["product", "sku", "name", "options", "position", "is_active"]}),
        ("Price", {"fields": ["price", "compare_at_price", "cost_price", "currency"]}),
        (
            "Stock",
            {"fields": ["stock", "ledger", "track_inventory", "low_stock_threshold"]},
        ),
        ("Shipping", {"fields": ["weight_grams"]}),
    ]

    @admin.display(description="low stock")
    def low_stock(self, variant):
        return LOW_MARKER if variant.is_low_on_stock else ""

    @admin.display(description="stock ledger")
    def ledger(self, variant):
        if not variant.pk:
            return "—"
        url = reverse("admin:catalog_stockmovement_changelist")
        return format_html(
            '<a href="{}?variant__id__exact={}">Every stock movement of {}</a>. Stock changes '
            "with the “Receive or correct stock” action of the variants list.",
            url,
            variant.pk,
            variant.sku,
        )

    def get_export_queryset(self, request):
        return (
            super()
            .get_export_queryset(request)
            .select_related("product__category")
            .prefetch_related("product__tags")
        )

    @admin.action(description="Receive or correct stock", permissions=["change"])
    def adjust_stock(self, request, queryset):
        variants = list(queryset.select_related("product").order_by("pk"))
        form = StockAdjustForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                movements = form.apply(variants=variants, user=request.user)
            except CatalogError as error:
                form.add_error(None, f"Nothing was changed. {error.message}")
            else:
                self.message_user(
                    request,
                    f"Stock updated for {_plural(len(movements), 'variant')} "
                    f"({_plural(len(variants) - len(movements), 'variant')} unchanged).",
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Receive or correct stock",
            "subtitle": None,
            "opts": self.opts,
            "form": form,
            "variants": variants,
            "action_name": "adjust_stock",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/catalog/productvariant/adjust_stock.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """The ledger, read-only for everyone: rows are written by the stock services only."""

    list_display = [
        "created_at",
        "variant_sku",
        "product",
        "delta",
        "quantity_after",
        "reason",
        "reference",
        "note",
        "created_by",
    ]
    list_filter = ["reason", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["variant__product", "created_by"]
    search_fields = ["variant__sku", "reference"]
    search_help_text = "Search by SKU or reference (e.g. an order number)."
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="SKU", ordering="variant__sku")
    def variant_sku(self, movement):
        return movement.variant.sku

    @admin.display(description="product", ordering="variant__product__name")
    def product(self, movement):
        return movement.variant.product


# --- Categories and tags ------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["tree_name", "parent", "slug", "position", "product_count"]
    list_display_links = ["tree_name"]
    list_editable = ["position"]
    ordering = ["position", "name"]  # counted rows drop the model's default ordering
    # Three levels of parents come with each row, which covers the depth of a shop's shelves.
    list_select_related = ["parent__parent__parent"]
    list_filter = [("parent", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(products_total=Count("products"))

    @admin.display(description="name", ordering="name")
    def tree_name(self, category):
        depth, node = 0, category
        while node.parent_id is not None and Category.parent.is_cached(node):
            depth, node = depth + 1, node.parent
        if node.parent_id is not None:
            depth += 1
        return format_html("{}{}", "— " * depth, category.name)

    @admin.display(description="products", ordering="products_total")
    def product_count(self, category):
        return category.products_total


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "product_count"]
    ordering = ["name"]  # counted rows drop the model's default ordering
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(products_total=Count("products"))

    @admin.display(description="products", ordering="products_total")
    def product_count(self, tag):
        return tag.products_total
