"""Forms of the cart and checkout pages. They check the shape of the input; the services decide
what can be bought."""

from django import forms
from django_countries.fields import CountryField

from accounts.models import Address
from orders import services
from orders.models import MAX_LINE_QUANTITY, ShippingMethod

QUANTITY_ERRORS = {
    "required": "Enter a quantity.",
    "invalid": "Enter a whole number.",
    "min_value": "Enter at least %(limit_value)s.",
    "max_value": f"At most {MAX_LINE_QUANTITY} of one item per order.",
}
NEW_ADDRESS = "new"
ADDRESS_FIELDS = services.ADDRESS_FIELDS
REQUIRED_ADDRESS_FIELDS = services.REQUIRED_ADDRESS_FIELDS


class CartAddForm(forms.Form):
    variant = forms.IntegerField(min_value=1, error_messages={"invalid": "Choose an item."})
    quantity = forms.IntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, initial=1, error_messages=QUANTITY_ERRORS
    )


class CartUpdateForm(forms.Form):
    # 0 takes the line out of the cart, as the remove button does.
    quantity = forms.IntegerField(
        min_value=0, max_value=MAX_LINE_QUANTITY, error_messages=QUANTITY_ERRORS
    )


def first_error(form: forms.Form) -> str:
    """The first problem of an invalid form, for a one-line message."""
    for errors in form.errors.values():
        if errors:
            return errors[0]
    return "Please check what you entered."


class PickFromList(forms.ChoiceField):
    """A choice among objects the view has already loaded, cleaned to the object itself (a
    ModelChoiceField would query for the row again)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.objects: dict[str, object] = {}

    def set_objects(self, objects: list, label=str) -> None:
        self.objects = {str(obj.pk): obj for obj in objects}
        self.choices = [(key, label(obj)) for key, obj in self.objects.items()]

    def clean(self, value):
        value = super().clean(value)
        return self.objects.get(str(value)) if value else None


class CheckoutForm(forms.Form):
    """Email, where to ship, how to ship, a discount code and a note.

    The address is needed only for carts with goods to send; a member may pick one from their
    address book instead of typing it. Whether the discount code can be used is decided by the
    order service (it needs the code's row locked).
    """

    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    saved_address = forms.ChoiceField(label="Ship to", required=False, widget=forms.RadioSelect)
    recipient = forms.CharField(
        label="Full name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "shipping name"}),
    )
    phone = forms.CharField(
        max_length=32,
        required=False,
        help_text="Only for the courier, if they need to reach you.",
        widget=forms.TextInput(attrs={"autocomplete": "shipping tel", "inputmode": "tel"}),
    )
    line1 = forms.CharField(
        label="Address line 1",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "shipping address-line1"}),
    )
    line2 = forms.CharField(
        label="Address line 2",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "shipping address-line2"}),
    )
    city = forms.CharField(
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "shipping address-level2"}),
    )
    region = forms.CharField(
        label="State / region",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "shipping address-level1"}),
    )
    postal_code = forms.CharField(
        label="Postal code",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "shipping postal-code"}),
    )
    country = CountryField(blank=True).formfield(
        required=False, widget=forms.Select(attrs={"autocomplete": "shipping country"})
    )
    shipping_method = PickFromList(
        label="Shipping method",
        required=False,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how to ship your order.",
            "invalid_choice": "Choose one of the shipping methods offered.",
        },
    )
    discount_code = forms.CharField(
        label="Discount code",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    note = forms.CharField(
        label="Note for us",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args,
        user=None,
        addresses: list[Address] = (),
        methods: list[ShippingMethod] = (),
        needs_shipping: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.needs_shipping = needs_shipping
        self.addresses = {str(address.pk): address for address in addresses}
        self.methods = list(methods)
        self.member = user is not None and user.is_authenticated
        if self.member:
            # A member's orders go to their account's address, which they change on the profile.
            self.fields["email"].disabled = True
            self.fields["email"].initial = user.email
            self.fields["email"].help_text = "Your account's email. Change it on your profile."
        self.fields["shipping_method"].set_objects(self.methods, label=lambda m: m.name)
        self.fields["saved_address"].choices = [
            *[(key, str(address)) for key, address in self.addresses.items()],
            (NEW_ADDRESS, "A new address"),
        ]
        if not needs_shipping:
            for name in ("saved_address", *ADDRESS_FIELDS, "shipping_method"):
                del self.fields[name]
            return
        if not self.addresses:
            del self.fields["saved_address"]
        self.fields["shipping_method"].required = True
        # The typed address is needed unless an address book entry is chosen.
        typing = self.data.get(self.add_prefix("saved_address"), NEW_ADDRESS) not in self.addresses
        for name in REQUIRED_ADDRESS_FIELDS:
            self.fields[name].required = typing

    def chosen_address(self) -> Address | None:
        """The address book entry chosen, or None for an address typed in."""
        key = self.cleaned_data.get("saved_address") if hasattr(self, "cleaned_data") else None
        return self.addresses.get(key or "")

    def shipping_address(self) -> dict:
        if not self.needs_shipping:
            return {}
        chosen = self.chosen_address()
        if chosen is not None:
            address = {name: str(getattr(chosen, name) or "") for name in ADDRESS_FIELDS}
            address["country"] = chosen.country.code
            return address
        return {name: str(self.cleaned_data.get(name) or "") for name in ADDRESS_FIELDS}
