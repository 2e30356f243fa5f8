"""Payment and refund API serializers. Amounts are never read from a client: they come from
the order."""

from rest_framework import serializers

from catalog.api.serializers import MONEY
from payments.models import Payment, Refund

ACCESS_TOKEN_HELP = (
    "Guests only: the `access_token` that guest/verify returned. Members are known by their JWT."
)


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField(source="order.number", help_text="The order number.")
    provider = serializers.ChoiceField(choices=Payment.Provider.choices)
    status = serializers.ChoiceField(choices=Payment.Status.choices)
    amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    amount_received = serializers.DecimalField(**MONEY)
    refunded_amount = serializers.DecimalField(**MONEY)
    failure_code = serializers.CharField(help_text="Why the last try failed, e.g. card_declined.")
    failure_message = serializers.CharField(help_text="The same, for people.")
    created_at = serializers.DateTimeField()
    succeeded_at = serializers.DateTimeField(allow_null=True)


class CreateIntentInput(serializers.Serializer):
    order = serializers.CharField(max_length=20, help_text="The order number to pay.")
    provider = serializers.ChoiceField(
        choices=Payment.Provider.choices,
        default=Payment.Provider.STRIPE,
        help_text="`stripe` (card) or `manual` (bank transfer, pay on pickup), when offered.",
    )
    access_token = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text=ACCESS_TOKEN_HELP
    )


class CreateIntentOutput(serializers.Serializer):
    payment = PaymentOutput()
    client_secret = serializers.CharField(
        help_text="Stripe: give it to the Payment Element / PaymentSheet. Empty for manual."
    )
    publishable_key = serializers.CharField(help_text="Stripe's publishable key, or empty.")
    instructions = serializers.CharField(help_text="Manual payments: what the shopper must do.")


class ConfirmInput(serializers.Serializer):
    payment = serializers.IntegerField(min_value=1, help_text="The payment's `id`.")
    payment_method = serializers.RegexField(
        r"^pm_[A-Za-z0-9_]{1,200}$",
        help_text="A Stripe PaymentMethod id collected by the client, like `pm_1Q...`.",
        error_messages={"invalid": "Send a Stripe PaymentMethod id (it starts with pm_)."},
    )
    access_token = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text=ACCESS_TOKEN_HELP
    )


class RefundLineInput(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, help_text="An order line's `id`.")
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class RefundRequestInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why: staff read it.")
    access_token = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text=ACCESS_TOKEN_HELP
    )
    lines = RefundLineInput(
        many=True,
        required=False,
        default=list,
        help_text="The lines to refund; none means everything not yet refunded.",
    )

    def validate_lines(self, lines: list) -> list:
        if len(lines) > 200:
            raise serializers.ValidationError("At most 200 lines.")
        return lines


class RefundLineOutput(serializers.Serializer):
    line = serializers.IntegerField(source="order_line_id")
    product_name = serializers.CharField(source="order_line.product_name")
    quantity = serializers.IntegerField()


class RefundOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField(source="order.number")
    status = serializers.ChoiceField(choices=Refund.Status.choices)
    origin = serializers.ChoiceField(choices=Refund.Origin.choices)
    amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    reason = serializers.CharField()
    lines = RefundLineOutput(many=True, source="lines.all")
    staff_note = serializers.CharField(help_text="Staff's answer, when there is one.")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
