"""Orders placed the real way (cart, checkout service) for payment tests."""

from decimal import Decimal

from catalog.models import Product
from catalog.tests.factories import ProductFactory, VariantFactory
from orders import services
from orders.models import Order
from orders.tests.factories import ADDRESS, CartFactory, CartItemFactory, ShippingMethodFactory


def place_order(
    *,
    user=None,
    price: str = "20.00",
    quantity: int = 2,
    stock: int = 10,
    email: str = "buyer@example.com",
    verified: bool = True,
    digital: bool = False,
) -> Order:
    """An order awaiting payment: two of one variant (40.00 + 4.90 shipping by default)."""
    cart = services.cart_get_or_create(user=user) if user else CartFactory()
    kind = Product.Kind.DIGITAL if digital else Product.Kind.PHYSICAL
    variant = VariantFactory(product=ProductFactory(kind=kind), price=Decimal(price), stock=stock)
    CartItemFactory(cart=cart, variant=variant, quantity=quantity)
    order = services.order_place(
        cart=cart,
        email=user.email if user else email,
        user=user,
        shipping_address=None if digital else ADDRESS,
        shipping_method=None if digital else ShippingMethodFactory(),
    )
    if user is None and verified:
        order = services.order_guest_verify(number=order.number, code=_code(order))
    return order


def _code(order: Order) -> str:
    from orders import tokens

    return tokens.guest_code(order)
