"""Forms of the staff screens: the variant rows of a product, and receiving or counting stock."""

import json

from django import forms
from django.core.exceptions import ValidationError

from catalog import services
from catalog.models import ProductVariant, StockMovement

Reason = StockMovement.Reason


# --- Options as text ----------------------------------------------------------------------------


def options_parse(text: str) -> dict:
    """Read variant options written as `key=value; key=value` (or as a JSON object).

    Raises ValidationError with a message staff can act on.
    """
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            options = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(f"Not valid JSON: {error.msg}.", code="invalid") from error
        if not isinstance(options, dict):
            raise ValidationError("Options must be a JSON object.", code="invalid")
        return options
    options = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValidationError(
                f"“{part}” is not of the form name=value (e.g. “phone model=iPhone 16”).",
                code="invalid",
            )
        options[key.strip()] = value.strip()
    return options


def options_format(options: dict | None) -> str:
    """The `key=value; key=value` text of options, or JSON when that text could not be read
    back unchanged (values that are not text, or that contain the separators)."""
    if not options:
        return ""
    plain = all(
        isinstance(key, str)
        and isinstance(value, str)
        and not any(sep in key for sep in "=;")
        and ";" not in value
        and key == key.strip()
        and value == value.strip()
        and not key.startswith("{")
        for key, value in options.items()
    )
    if plain:
        return "; ".join(f"{key}={value}" for key, value in options.items())
    return json.dumps(options, ensure_ascii=False)


class OptionsField(forms.CharField):
    """Variant options typed as `phone model=iPhone 16; colour=black`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", "e.g. “phone model=iPhone 16; colour=black” (or a JSON object)."
        )
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 24}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return options_format(value) if isinstance(value, dict) else value

    def to_python(self, value):
        return options_parse(super().to_python(value))

    def has_changed(self, initial, data):
        try:
            return options_parse(data or "") != (initial or {})
        except ValidationError:
            return True


class VariantForm(forms.ModelForm):
    options = OptionsField()

    class Meta:
        model = ProductVariant
        fields = ["product", *services.VARIANT_FIELDS]


# --- Variant rows of the product page -----------------------------------------------------------


class VariantInlineForm(forms.ModelForm):
    """A variant row. New rows may bring their first stock, which is recorded as received stock
    once the variant exists (stock itself is never a form field: it changes through the ledger)."""

    options = OptionsField()
    initial_stock = forms.IntegerField(
        min_value=0,
        required=False,
        label="Initial stock",
        help_text="New variants only; later changes go through “Receive or correct stock”.",
        widget=forms.NumberInput(attrs={"style": "width: 6em"}),
    )

    class Meta:
        model = ProductVariant
        fields = [
            "sku",
            "name",
            "options",
            "price",
            "compare_at_price",
            "cost_price",
            "low_stock_threshold",
            "track_inventory",
            "is_active",
            "position",
        ]
        widgets = {
            "name": forms.TextInput(attrs={"size": 16}),
            "sku": forms.TextInput(attrs={"size": 14}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            field = self.fields["initial_stock"]
            field.disabled = True
            field.widget.attrs["placeholder"] = "—"
            field.widget.attrs["title"] = "Use “Receive or correct stock” on the variants list."

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("initial_stock") and not cleaned.get("track_inventory"):
            self.add_error(
                "initial_stock", "This variant does not track inventory, so it has no stock."
            )
        return cleaned


# --- Receiving and counting stock ---------------------------------------------------------------


class StockAdjustForm(forms.Form):
    """What staff do with a delivery, a stock count or a return, for one or more variants."""

    RECEIVE = "receive"
    COUNT = "count"
    RETURN = "return"
    MODES = [
        (RECEIVE, "Receive stock (add the quantity)"),
        (COUNT, "Stock count (set the stock to the quantity)"),
        (RETURN, "Customer return (add the quantity)"),
    ]

    mode = forms.ChoiceField(choices=MODES, widget=forms.RadioSelect, initial=RECEIVE)
    quantity = forms.IntegerField(
        min_value=0,
        help_text="Per selected variant: the quantity received or returned, or the count.",
    )
    note = forms.CharField(
        max_length=255,
        required=False,
        label="Reason / note",
        help_text="Kept in the stock ledger, e.g. a delivery note number.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("mode") in (self.RECEIVE, self.RETURN) and cleaned.get("quantity") == 0:
            self.add_error("quantity", "Enter how many items arrived (at least 1).")
        return cleaned

    def apply(self, *, variants, user) -> list[StockMovement]:
        """Apply the form to every variant, all or none (see `services.stock_adjust_many`)."""
        mode = self.cleaned_data["mode"]
        return services.stock_adjust_many(
            variants=variants,
            mode={self.RECEIVE: Reason.RESTOCK, self.RETURN: Reason.RETURN}.get(mode, "count"),
            quantity=self.cleaned_data["quantity"],
            user=user,
            note=self.cleaned_data["note"],
        )
