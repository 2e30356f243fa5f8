"""The catalogue as a spreadsheet: one CSV row per variant, with its product's columns.

Import is keyed by SKU (a known SKU is updated, a new one created) and by product slug (the
product is created or updated through the services). Stock in the file is a stock count: it is
recorded in the ledger with `stock_set`, never written to the variant directly. An import is all
or nothing: one bad row and no row is saved.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from catalog import services
from catalog.admin_forms import options_format, options_parse
from catalog.models import Category, Product, ProductVariant

IMPORT_NOTE = "CSV import"
TRUE_WORDS = {"1", "true", "yes", "y"}
FALSE_WORDS = {"0", "false", "no", "n"}
PRODUCT_COLUMNS = {"name": "product_name", "slug": "product_slug", "is_featured": "featured"}


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_bool(value) -> bool | None:
    """1/0, true/false, yes/no in any case; None when empty. Raises ValueError otherwise."""
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"“{value}” is not yes/no (use 1 or 0, true or false).")


def parse_whole_number(value) -> int | None:
    if _is_empty(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"“{value}” is not a whole number.") from None
    if number != number.to_integral_value():
        raise ValueError(f"“{value}” is not a whole number.")
    return int(number)


class MoneyWidget(widgets.Widget):
    """Amounts as plain decimals (12.50), whatever the locale."""

    def clean(self, value, row=None, **kwargs):
        if _is_empty(value):
            return None
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"“{value}” is not an amount such as 12.50.") from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class WholeNumberWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return parse_whole_number(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class YesNoWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return parse_bool(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(int(bool(value)))


class TextOrDefaultWidget(widgets.Widget):
    """Text where an empty cell means “keep the current (or default) value”."""

    def clean(self, value, row=None, **kwargs):
        return None if _is_empty(value) else str(value).strip()


class OptionsWidget(widgets.Widget):
    """`phone model=iPhone 16; colour=black`, or a JSON object."""

    def clean(self, value, row=None, **kwargs):
        try:
            return options_parse("" if value is None else str(value))
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None

    def render(self, value, obj=None, **kwargs):
        return options_format(value)


class VariantResource(resources.ModelResource):
    # Product columns: handled in import_instance (the product is written through the services).
    product_slug = fields.Field(column_name="product_slug")
    product_name = fields.Field(column_name="product_name")
    description = fields.Field(column_name="description")
    kind = fields.Field(column_name="kind")
    status = fields.Field(column_name="status")
    category = fields.Field(column_name="category")
    tags = fields.Field(column_name="tags")
    featured = fields.Field(column_name="featured")
    # Variant columns. Empty cells of columns with a default keep the current (or default) value.
    sku = fields.Field(attribute="sku", column_name="sku", widget=widgets.CharWidget())
    variant_name = fields.Field(attribute="name", column_name="variant_name")
    options = fields.Field(attribute="options", column_name="options", widget=OptionsWidget())
    price = fields.Field(attribute="price", column_name="price", widget=MoneyWidget())
    compare_at_price = fields.Field(
        attribute="compare_at_price", column_name="compare_at_price", widget=MoneyWidget()
    )
    cost_price = fields.Field(
        attribute="cost_price", column_name="cost_price", widget=MoneyWidget()
    )
    currency = fields.Field(
        attribute="currency",
        column_name="currency",
        widget=TextOrDefaultWidget(),
        saves_null_values=False,
    )
    # Stock goes to the ledger after the variant is saved (after_save_instance).
    stock = fields.Field(column_name="stock", widget=WholeNumberWidget())
    low_stock_threshold = fields.Field(
        attribute="low_stock_threshold",
        column_name="low_stock_threshold",
        widget=WholeNumberWidget(),
        saves_null_values=False,
    )
    track_inventory = fields.Field(
        attribute="track_inventory",
        column_name="track_inventory",
        widget=YesNoWidget(),
        saves_null_values=False,
    )
    is_active = fields.Field(
        attribute="is_active",
        column_name="is_active",
        widget=YesNoWidget(),
        saves_null_values=False,
    )

    class Meta:
        model = ProductVariant
        name = "Variants with their products (one row per SKU)"
        fields = (
            "product_slug",
            "product_name",
            "description",
            "kind",
            "status",
            "category",
            "tags",
            "featured",
            "sku",
            "variant_name",
            "options",
            "price",
            "compare_at_price",
            "cost_price",
            "currency",
            "stock",
            "low_stock_threshold",
            "track_inventory",
            "is_active",
        )
        export_order = fields
        import_order = fields
        import_id_fields = ["sku"]
        clean_model_instances = True
        use_transactions = True
        skip_html_diff = False

    def get_queryset(self):
        return (
            ProductVariant.objects.select_related("product__category")
            .prefetch_related("product__tags")
            .order_by("product__slug", "position", "pk")
        )

    def import_data(self, dataset, *args, rollback_on_validation_errors=True, **kwargs):
        # All rows or none: a row refused by validation undoes the rows before it too.
        return super().import_data(
            dataset, *args, rollback_on_validation_errors=rollback_on_validation_errors, **kwargs
        )

    # --- Export -------------------------------------------------------------------------------

    @staticmethod
    def _product(variant: ProductVariant) -> Product | None:
        return variant.product if variant.product_id else None

    def dehydrate_product_slug(self, variant):
        product = self._product(variant)
        return product.slug if product else ""

    def dehydrate_product_name(self, variant):
        product = self._product(variant)
        return product.name if product else ""

    def dehydrate_description(self, variant):
        product = self._product(variant)
        return product.description if product else ""

    def dehydrate_kind(self, variant):
        product = self._product(variant)
        return product.kind if product else ""

    def dehydrate_status(self, variant):
        product = self._product(variant)
        return product.status if product else ""

    def dehydrate_category(self, variant):
        product = self._product(variant)
        return product.category.slug if product and product.category_id else ""

    def dehydrate_tags(self, variant):
        product = self._product(variant)
        if product is None or product.pk is None:
            return ""
        return ", ".join(tag.name for tag in product.tags.all())

    def dehydrate_featured(self, variant):
        product = self._product(variant)
        return "" if product is None else str(int(product.is_featured))

    def dehydrate_stock(self, variant):
        return str(variant.stock)

    # --- Import -------------------------------------------------------------------------------

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            instance._import_stock = parse_whole_number(row.get("stock"))
            if instance._import_stock is not None and instance._import_stock < 0:
                errors["stock"] = ["Stock cannot be negative."]
        except ValueError as error:
            errors["stock"] = [str(error)]
        product_errors = {}
        data, tags = self._product_data(row, product_errors)
        if not product_errors:
            try:
                instance.product = self._product_save(row, data, tags, kwargs.get("user"))
            except ValidationError as error:
                product_errors = error.update_error_dict(product_errors)
            else:
                # As in the services: a new download does not track stock unless told to.
                if (
                    instance.pk is None
                    and instance.product.kind == Product.Kind.DIGITAL
                    and _is_empty(row.get("track_inventory"))
                ):
                    instance.track_inventory = False
        errors.update(product_errors)
        if errors:
            raise ValidationError(errors)

    def _product_data(self, row, errors: dict) -> tuple[dict, list[str] | None]:
        """The product fields a row sets (only the columns it has), checked; errors by column."""
        data = {}
        slug = str(row.get("product_slug") or "").strip()
        if not slug:
            errors["product_slug"] = ["Every row needs the product’s slug."]
        data["slug"] = slug
        if "product_name" in row and not _is_empty(row["product_name"]):
            data["name"] = str(row["product_name"]).strip()
        if "description" in row and row["description"] is not None:
            data["description"] = row["description"]
        for column, choices in (("kind", Product.Kind), ("status", Product.Status)):
            if column in row and not _is_empty(row[column]):
                value = str(row[column]).strip().lower()
                if value not in choices.values:
                    errors[column] = [f"“{row[column]}” is not one of {', '.join(choices.values)}."]
                data[column] = value
        if "category" in row:
            category_slug = str(row["category"] or "").strip()
            data["category"] = None
            if category_slug:
                data["category"] = Category.objects.filter(slug=category_slug).first()
                if data["category"] is None:
                    errors["category"] = [f"No category has the slug “{category_slug}”."]
        if "featured" in row:
            try:
                featured = parse_bool(row["featured"])
            except ValueError as error:
                errors["featured"] = [str(error)]
            else:
                if featured is not None:
                    data["is_featured"] = featured
        tags = None
        if "tags" in row:
            tags = [name.strip() for name in str(row["tags"] or "").split(",") if name.strip()]
        return data, tags

    def _product_save(self, row, data: dict, tags, user) -> Product:
        product = Product.objects.filter(slug=data["slug"]).first()
        try:
            if product is None:
                if "name" not in data:
                    raise ValidationError({"name": ["A new product needs a name."]})
                return services.product_create(data=data, variants=[], tags=tags or (), user=user)
            return services.product_update(product=product, data=data, tags=tags, user=user)
        except ValidationError as error:
            # Name the product's errors after the file's columns, not the model's fields.
            raise ValidationError(
                {PRODUCT_COLUMNS.get(f, f): messages for f, messages in error.message_dict.items()}
            ) from None

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        # Without a product (its columns were refused) the variant cannot be checked against it.
        exclude = set(errors) | ({"product"} if instance.product_id is None else set())
        try:
            instance.full_clean(exclude=exclude, validate_unique=validate_unique)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def after_save_instance(self, instance, row, **kwargs):
        quantity = getattr(instance, "_import_stock", None)
        if quantity is not None and instance.track_inventory:
            services.stock_set(
                variant=instance, quantity=quantity, user=kwargs.get("user"), note=IMPORT_NOTE
            )
