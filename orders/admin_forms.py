"""Forms of the order screens: discount codes, and what staff type when shipping or cancelling."""

from django import forms

from orders.models import DiscountCode, Order


class DiscountCodeForm(forms.ModelForm):
    class Meta:
        model = DiscountCode
        fields = [
            "code",
            "kind",
            "value",
            "min_subtotal",
            "starts_at",
            "ends_at",
            "usage_limit",
            "per_customer_limit",
            "is_active",
        ]

    def clean_code(self) -> str:
        # Shoppers type codes in any case and checkout looks them up in capitals; storing them
        # so also lets the unique constraint catch "save10" next to "SAVE10".
        code = "".join(self.cleaned_data["code"].split()).upper()
        if not code:
            raise forms.ValidationError("Enter a code.", code="required")
        return code

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The code must end after it starts.")
        if cleaned.get("kind") == DiscountCode.Kind.PERCENT and (cleaned.get("value") or 0) > 100:
            self.add_error("value", "A percentage cannot be more than 100.")
        return cleaned


class ShipmentForm(forms.Form):
    """The parcel of one order: its prefix is the order's id, so one page holds many."""

    tracking_number = forms.CharField(
        max_length=Order._meta.get_field("tracking_number").max_length,
        widget=forms.TextInput(attrs={"size": 24, "autocomplete": "off"}),
    )
    carrier = forms.CharField(
        max_length=Order._meta.get_field("carrier").max_length,
        required=False,
        widget=forms.TextInput(attrs={"size": 16}),
    )

    def __init__(self, *args, order: Order, **kwargs):
        kwargs.setdefault("prefix", f"ship-{order.pk}")
        kwargs.setdefault("initial", {"carrier": order.carrier})
        super().__init__(*args, **kwargs)
        self.order = order
        self.fields["tracking_number"].label = f"Tracking number of {order.number}"
        self.fields["carrier"].label = f"Carrier of {order.number}"

    def clean_tracking_number(self) -> str:
        return self.cleaned_data["tracking_number"].strip()


class CancelForm(forms.Form):
    note = forms.CharField(
        max_length=200,
        required=False,
        label="Reason",
        help_text="Kept in each order's status history (not sent to the customer).",
    )
