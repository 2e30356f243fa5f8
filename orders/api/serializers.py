"""Cart, checkout and order API serializers: inputs validate requests, outputs render what the
views loaded (a priced cart, or orders with their lines and history prefetched)."""

from typing import NamedTuple

from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import phone_validator
from catalog.api.serializers import INT_MAX, MONEY, absolute_file_url
from catalog.models import ProductImage
from orders import pricing, selectors
from orders.models import MAX_LINE_QUANTITY, Cart, Order, OrderLine, ShippingMethod

PROBLEMS = ["", *pricing.PROBLEM_TEXT]


class OrderStatusField(serializers.ChoiceField):
    """An order status (named `OrderStatusEnum` in the schema: see SPECTACULAR_SETTINGS)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=Order.Status.choices, **kwargs)


class PricedCart(NamedTuple):
    """A cart with its lines priced and checked just now (`services.cart_totals`)."""

    cart: Cart
    totals: pricing.Totals


# --- Cart ---------------------------------------------------------------------------------------


class ProductRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class CartVariantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    product = ProductRefOutput()
    thumbnail = serializers.SerializerMethodField(
        help_text="400×400 WebP of the variant's picture (else the product's first), or null."
    )

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_thumbnail(self, variant) -> str | None:
        image = selectors.line_picture(variant)  # of the pictures `cart_lines` loaded
        return absolute_file_url(self.context["request"], image.thumbnail) if image else None


class CartLineOutput(serializers.Serializer):
    id = serializers.IntegerField(source="item_id", help_text="The cart item: PATCH/DELETE it.")
    variant = CartVariantOutput()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(**MONEY, help_text="Today's price.")
    line_total = serializers.DecimalField(**MONEY)
    problem = serializers.ChoiceField(
        choices=PROBLEMS,
        help_text="Why the line cannot be bought as it is; empty when it can.",
    )
    available = serializers.IntegerField(
        allow_null=True, help_text="How many can be bought, when that is the problem."
    )
    message = serializers.SerializerMethodField(help_text="The problem in words, or empty.")

    def get_message(self, line: pricing.PricedLine) -> str:
        return pricing.problem_text(line)


class CartOutput(serializers.Serializer):
    """The cart, priced and checked again on every read."""

    token = serializers.UUIDField(
        source="cart.token",
        help_text="Anonymous clients send it back in the `X-Session-ID` header.",
    )
    lines = CartLineOutput(many=True, source="totals.lines")
    item_count = serializers.IntegerField(source="totals.item_count")
    subtotal = serializers.DecimalField(**MONEY, source="totals.subtotal")
    currency = serializers.CharField(source="totals.currency")
    can_check_out = serializers.SerializerMethodField(
        help_text="Not empty and every line can be bought as it is."
    )

    def get_can_check_out(self, priced: PricedCart) -> bool:
        return bool(priced.totals.lines) and not priced.totals.problems


class CartItemAddInput(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1, max_value=INT_MAX, help_text="A variant id.")
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=INT_MAX,
        default=1,
        help_text=f"How many more to add; a line holds at most {MAX_LINE_QUANTITY}.",
    )


class CartItemUpdateInput(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=0, max_value=INT_MAX, help_text="The new quantity; 0 removes the line."
    )


# --- Checkout -----------------------------------------------------------------------------------


class AddressInput(serializers.Serializer):
    """Where to ship; copied onto the order."""

    recipient = serializers.CharField(max_length=150)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", validators=[phone_validator]
    )
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20)
    country = CountryField()


class CheckoutFields(serializers.Serializer):
    shipping_address = AddressInput(
        required=False, help_text="Needed unless every line is a download."
    )
    shipping_method = serializers.IntegerField(
        min_value=1,
        max_value=INT_MAX,
        required=False,
        allow_null=True,
        help_text="A shipping method id (see shipping-methods); needed unless all digital.",
    )
    discount_code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CheckoutInput(CheckoutFields):
    address_id = serializers.IntegerField(
        min_value=1,
        max_value=INT_MAX,
        required=False,
        help_text="One of your saved addresses, instead of `shipping_address`.",
    )

    def validate(self, data: dict) -> dict:
        if "address_id" in data and "shipping_address" in data:
            raise serializers.ValidationError(
                {"address_id": ["Send either `address_id` or `shipping_address`, not both."]}
            )
        return data


class GuestCheckoutInput(CheckoutFields):
    email = serializers.EmailField(help_text="Where the order and its verification code go.")


class GuestVerifyInput(serializers.Serializer):
    """Either the emailed link's `token`, or the order `number` with the emailed `code`."""

    token = serializers.CharField(max_length=500, required=False)
    number = serializers.CharField(max_length=20, required=False)
    code = serializers.CharField(max_length=20, required=False)

    def validate(self, data: dict) -> dict:
        if data.get("token"):
            if data.get("number") or data.get("code"):
                raise serializers.ValidationError("Send either `token` or `number` and `code`.")
            return data
        missing = {f: ["This field is required."] for f in ("number", "code") if not data.get(f)}
        if missing:
            raise serializers.ValidationError(missing)
        return data


# --- Orders -------------------------------------------------------------------------------------


class OrderLineOutput(serializers.Serializer):
    sku = serializers.CharField()
    product_name = serializers.CharField()
    variant_name = serializers.CharField()
    unit_price = serializers.DecimalField(**MONEY)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(**MONEY)
    is_digital = serializers.BooleanField()
    image = serializers.SerializerMethodField(help_text="The picture as bought, or null.")

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_image(self, line: OrderLine) -> str | None:
        if not line.image:
            return None
        storage = ProductImage._meta.get_field("image").storage
        return self.context["request"].build_absolute_uri(storage.url(line.image))


class StatusChangeOutput(serializers.Serializer):
    to = OrderStatusField(source="to_status")
    at = serializers.DateTimeField(source="created_at")
    note = serializers.CharField()

    def get_fields(self) -> dict:
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        return {
            "from": OrderStatusField(source="from_status", allow_null=True),
            **super().get_fields(),
        }

    def to_representation(self, change) -> dict:
        data = super().to_representation(change)
        data["from"] = data["from"] or None
        return data


class ShippingAddressOutput(serializers.Serializer):
    recipient = serializers.CharField(source="ship_recipient")
    phone = serializers.CharField(source="ship_phone")
    line1 = serializers.CharField(source="ship_line1")
    line2 = serializers.CharField(source="ship_line2")
    city = serializers.CharField(source="ship_city")
    region = serializers.CharField(source="ship_region")
    postal_code = serializers.CharField(source="ship_postal_code")
    country = serializers.CharField(source="ship_country.code", help_text="ISO 3166-1 alpha-2.")


class OrderSummaryOutput(serializers.Serializer):
    """An order without personal data: what a guest sees before confirming their email.
    Reads `Order.line_list`: prefetched by `selectors.orders_with_details`, or as placed."""

    number = serializers.CharField()
    status = OrderStatusField()
    status_display = serializers.CharField(source="get_status_display")
    email_verified = serializers.SerializerMethodField()
    can_pay = serializers.BooleanField(
        help_text="Unpaid, and the email is confirmed (guests must confirm it first)."
    )
    currency = serializers.CharField()
    subtotal = serializers.DecimalField(**MONEY)
    shipping_total = serializers.DecimalField(**MONEY)
    discount_total = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    shipping_method_name = serializers.CharField()
    discount_code = serializers.CharField()
    lines = OrderLineOutput(many=True, source="line_list")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="An unpaid order is cancelled at this time."
    )

    def get_email_verified(self, order: Order) -> bool:
        return order.email_verified_at is not None


class OrderOutput(OrderSummaryOutput):
    """An order with its lines and history (`Order.line_list`, `Order.history`): prefetched by
    `selectors.orders_with_details`, or as `order_place` left them."""

    email = serializers.EmailField()
    shipping_address = serializers.SerializerMethodField(
        help_text="Null when nothing is shipped (downloads only)."
    )
    tracking_number = serializers.CharField()
    carrier = serializers.CharField()
    status_history = StatusChangeOutput(many=True, source="history")
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ShippingAddressOutput(allow_null=True))
    def get_shipping_address(self, order: Order) -> dict | None:
        return ShippingAddressOutput(order).data if order.needs_shipping else None


class GuestCheckoutOutput(serializers.Serializer):
    order = OrderSummaryOutput()
    verification = serializers.ChoiceField(
        choices=["sent"],
        help_text="A code and a link were emailed: confirm with guest/verify to see and pay.",
    )


class GuestVerifyOutput(serializers.Serializer):
    order = OrderOutput()
    access_token = serializers.CharField(
        help_text="Keep it: GET guest/orders/{access_token} shows the order later."
    )


class OrderStatusInput(serializers.Serializer):
    status = OrderStatusField(help_text="The new status.")
    tracking_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="For shipped."
    )
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ShippingMethodOutput(serializers.ModelSerializer):
    free_above = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Orders with a subtotal at or above this ship free."
    )

    class Meta:
        model = ShippingMethod
        fields = ["id", "name", "code", "description", "fee", "free_above", "currency"]
        read_only_fields = fields


# --- Errors (documentation only: the views build these bodies) ----------------------------------


class CheckoutProblemLineOutput(serializers.Serializer):
    item_id = serializers.IntegerField(allow_null=True)
    variant_id = serializers.IntegerField()
    sku = serializers.CharField()
    problem = serializers.ChoiceField(choices=PROBLEMS[1:])
    available = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class CheckoutErrorDetailOutput(serializers.Serializer):
    code = serializers.CharField(
        help_text="cart_empty, cart_has_problems, insufficient_stock, address_required, "
        "shipping_method_required, discount_* or invalid."
    )
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    lines = CheckoutProblemLineOutput(
        many=True, required=False, help_text="The cart lines at fault (checkout errors only)."
    )


class CheckoutErrorOutput(serializers.Serializer):
    error = CheckoutErrorDetailOutput()
