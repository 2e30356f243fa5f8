from decimal import Decimal

import factory

from catalog.tests.factories import VariantFactory
from orders.models import Cart, CartItem, DiscountCode, ShippingMethod

ADDRESS = {
    "recipient": "Ada Maple",
    "phone": "+44 20 7946 0958",
    "line1": "1 Garden Row",
    "line2": "",
    "city": "London",
    "region": "",
    "postal_code": "N1 9GU",
    "country": "GB",
}


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart


class CartItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartItem

    cart = factory.SubFactory(CartFactory)
    variant = factory.SubFactory(VariantFactory)
    quantity = 1


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod

    name = "Standard"
    code = factory.Sequence(lambda n: f"standard-{n}")
    fee = Decimal("4.90")
    free_above = Decimal("100.00")


class DiscountCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DiscountCode

    code = factory.Sequence(lambda n: f"SAVE{n}")
    kind = DiscountCode.Kind.PERCENT
    value = Decimal("10")
