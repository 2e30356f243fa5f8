from django import forms

from orders.models import Order


class RefundRequestForm(forms.Form):
    """Why, and how many of each line (none chosen: everything not yet refunded)."""

    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Tell us what went wrong: we answer by email.",
    )

    def __init__(self, *args, order: Order, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.order_lines = list(order.lines.all())
        for line in self.order_lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.product_name} {line.variant_name}".strip(),
                min_value=0,
                max_value=line.quantity,
                initial=0,
                required=False,
            )

    def line_fields(self):
        return [self[f"line_{line.pk}"] for line in self.order_lines]

    def chosen_lines(self) -> list[dict]:
        return [
            {"line": line.pk, "quantity": self.cleaned_data[f"line_{line.pk}"]}
            for line in self.order_lines
            if self.cleaned_data.get(f"line_{line.pk}")
        ]
