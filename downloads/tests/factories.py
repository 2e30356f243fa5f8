"""Digital products, their files and chapters, and paid orders of them, made the real way."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from accounts.tests.factories import UserFactory
from catalog.models import Product
from catalog.tests.factories import ProductFactory, VariantFactory
from downloads import services
from downloads.models import Chapter, DigitalAsset
from orders import services as order_services
from orders import tokens
from orders.models import Order
from orders.tests.factories import CartFactory, CartItemFactory
from payments import services as payment_services

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"


def digital_product(*, name: str = "Bonsai care guide", price: str = "12.00", **fields) -> Product:
    product = ProductFactory(name=name, kind=Product.Kind.DIGITAL, **fields)
    VariantFactory(product=product, price=Decimal(price), stock=0, track_inventory=False)
    return product


def asset(
    product: Product, *, content: bytes = PDF, filename: str = "care-guide.pdf", **fields
) -> DigitalAsset:
    upload = SimpleUploadedFile(filename, content, content_type="application/pdf")
    return services.asset_upload(
        product=product, upload=upload, title=fields.pop("title", "The guide (PDF)"), **fields
    )


def chapters(product: Product, count: int = 3, paragraphs: int = 40) -> list[Chapter]:
    made = []
    for position in range(1, count + 1):
        body = "\n\n".join(
            f"Paragraph {n} of chapter {position}: water when the soil surface is dry."
            for n in range(1, paragraphs + 1)
        )
        chapter = Chapter(product=product, title=f"Chapter {position}", position=position)
        chapter.body = f"## Chapter {position}\n\n{body}"
        made.append(services.chapter_save(chapter=chapter))
    return made


def buy(product: Product, *, user=None, email: str = "reader@example.com", pay: bool = True):
    """A placed (and, by default, paid) order of one `product`, for a member or a guest whose
    email is confirmed."""
    cart = order_services.cart_get_or_create(user=user) if user else CartFactory()
    CartItemFactory(cart=cart, variant=product.variants.get(), quantity=1)
    order = order_services.order_place(cart=cart, email=user.email if user else email, user=user)
    if user is None:
        order = order_services.order_guest_verify(
            number=order.number, code=tokens.guest_code(order)
        )
    if pay:
        staff = UserFactory(is_staff=True)
        # Run what follows the commit (the order_paid receivers that grant the downloads, the
        # emails), as a real commit would: test transactions never commit.
        with TestCase.captureOnCommitCallbacks(execute=True):
            payment_services.order_pay_manually(order=order, user=staff)
    return Order.objects.get(pk=order.pk)
