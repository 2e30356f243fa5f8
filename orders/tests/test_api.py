"""The cart, checkout and order API: anonymous carts by header, members, guests, staff."""

import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import AddressFactory, UserFactory
from accounts.tests.test_api_auth import assert_error
from catalog.models import Product, ProductVariant
from catalog.tests.factories import ProductFactory, ProductImageFactory, VariantFactory
from orders import services, tokens
from orders.models import Cart, CartItem, Order, OrderLine
from orders.tests.factories import (
    ADDRESS,
    CartFactory,
    CartItemFactory,
    DiscountCodeFactory,
    ShippingMethodFactory,
)

pytestmark = pytest.mark.django_db
Status = Order.Status
HEADER = "X-Session-ID"

CART = reverse("api:cart")
CART_ITEMS = reverse("api:cart-items")
CHECKOUT = reverse("api:checkout")
GUEST_CHECKOUT = reverse("api:guest-checkout")
GUEST_VERIFY = reverse("api:guest-verify")
ORDERS = reverse("api:order-list")
SHIPPING_METHODS = reverse("api:shipping-method-list")


def item_url(pk: int) -> str:
    return reverse("api:cart-item", args=[pk])


def order_url(number: str) -> str:
    return reverse("api:order-detail", args=[number])


def cancel_url(number: str) -> str:
    return reverse("api:order-cancel", args=[number])


def status_url(number: str) -> str:
    return reverse("api:order-status", args=[number])


def guest_order_url(token: str) -> str:
    return reverse("api:guest-order", args=[token])


def session(cart: Cart) -> dict:
    """Request headers naming an anonymous cart."""
    return {HEADER: str(cart.token)}


def place_order(*, user=None, quantity: int = 1, stock: int = 5, **kwargs) -> Order:
    cart = services.cart_get_or_create(user=user) if user else CartFactory()
    CartItemFactory(cart=cart, quantity=quantity, variant__stock=stock)
    return services.order_place(
        cart=cart,
        email=user.email if user else "guest@example.com",
        user=user,
        shipping_address=ADDRESS,
        shipping_method=ShippingMethodFactory(),
        **kwargs,
    )


@pytest.fixture
def method():
    return ShippingMethodFactory(fee=Decimal("4.90"), free_above=None)


# --- Cart: anonymous ----------------------------------------------------------------------------
def test_get_cart_without_a_header_starts_an_anonymous_cart(api_client):
    response = api_client.get(CART)

    assert response.status_code == 200
    body = response.json()
    cart = Cart.objects.get()
    assert cart.user is None
    assert body["token"] == str(cart.token) == response[HEADER]
    assert body["lines"] == []
    assert (body["item_count"], body["subtotal"], body["currency"]) == (0, "0.00", "EUR")
    assert body["can_check_out"] is False


def test_the_header_finds_the_anonymous_cart_and_shows_its_lines(api_client):
    cart = CartFactory()
    variant = VariantFactory(price=Decimal("12.50"), stock=5, sku="PINE-S", name="Small")
    ProductImageFactory(product=variant.product)
    item = CartItemFactory(cart=cart, variant=variant, quantity=2)

    response = api_client.get(CART, headers=session(cart))

    assert response.status_code == 200
    assert response[HEADER] == str(cart.token)
    body = response.json()
    assert Cart.objects.count() == 1
    [line] = body["lines"]
    thumbnail = line["variant"].pop("thumbnail")
    assert thumbnail.startswith("http://testserver/")
    assert thumbnail.endswith(".webp")
    product = variant.product
    assert line == {
        "id": item.pk,
        "variant": {
            "id": variant.pk,
            "sku": "PINE-S",
            "name": "Small",
            "product": {"id": product.pk, "name": product.name, "slug": product.slug},
        },
        "quantity": 2,
        "unit_price": "12.50",
        "line_total": "25.00",
        "problem": "",
        "available": None,
        "message": "",
    }
    assert (body["item_count"], body["subtotal"], body["can_check_out"]) == (2, "25.00", True)


@pytest.mark.parametrize("token", ["not-a-uuid", str(uuid.uuid4())])
def test_a_bad_or_unknown_header_simply_gives_a_new_cart(api_client, token):
    existing = CartItemFactory().cart

    response = api_client.get(CART, headers={HEADER: token})

    assert response.status_code == 200
    assert response.json()["lines"] == []
    assert response[HEADER] not in (token, str(existing.token))
    assert Cart.objects.count() == 2


def test_the_cart_is_priced_and_checked_again_on_every_read(api_client):
    item = CartItemFactory(quantity=3, variant__stock=3, variant__price=Decimal("10.00"))
    gone = CartItemFactory(cart=item.cart)
    ProductVariant.objects.filter(pk=item.variant_id).update(stock=1, price=Decimal("11.00"))
    Product.objects.filter(pk=gone.variant.product_id).update(status=Product.Status.ARCHIVED)

    body = api_client.get(CART, headers=session(item.cart)).json()

    short, unavailable = body["lines"]
    assert (short["unit_price"], short["line_total"]) == ("11.00", "33.00")
    assert (short["problem"], short["available"], short["message"]) == (
        "insufficient_stock",
        1,
        "Only 1 left.",
    )
    assert (unavailable["problem"], unavailable["message"]) == (
        "unavailable",
        "This item is no longer available.",
    )
    assert body["can_check_out"] is False


def test_add_an_item_answers_201_with_the_cart_and_its_token(api_client):
    variant = VariantFactory(stock=5)

    first = api_client.post(CART_ITEMS, {"variant": variant.pk, "quantity": 2})

    assert first.status_code == 201, first.content
    token = first[HEADER]
    assert first.json()["token"] == token
    cart = Cart.objects.get(token=token)

    again = api_client.post(CART_ITEMS, {"variant": variant.pk}, headers={HEADER: token})

    assert again.status_code == 201
    assert [line["quantity"] for line in again.json()["lines"]] == [3]
    assert list(cart.items.values_list("variant_id", "quantity")) == [(variant.pk, 3)]


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({}, 400, "invalid", "variant"),
        ({"variant": "pine"}, 400, "invalid", "variant"),
        ({"variant": 1, "quantity": 0}, 400, "invalid", "quantity"),
        ({"variant": 2**31}, 400, "invalid", "variant"),
        ({"variant": "STOCK", "quantity": 6}, 409, "insufficient_stock", "quantity"),
        ({"variant": "STOCK", "quantity": 100}, 400, "quantity_too_large", "quantity"),
        ({"variant": "DRAFT"}, 400, "unavailable", "variant"),
        ({"variant": 999999}, 400, "unavailable", "variant"),
    ],
)
def test_adding_refuses_bad_input_with_field_messages(api_client, payload, status, code, field):
    cart = CartFactory()
    variants = {
        "STOCK": VariantFactory(stock=5).pk,
        "DRAFT": VariantFactory(product=ProductFactory(status=Product.Status.DRAFT)).pk,
    }
    payload = {k: variants.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}

    response = api_client.post(CART_ITEMS, payload, headers=session(cart))

    assert_error(response, status, code, fields=(field,))
    assert not CartItem.objects.exists()


def test_change_a_line_quantity_and_zero_removes_it(api_client):
    item = CartItemFactory(quantity=1, variant__stock=5)
    headers = session(item.cart)

    changed = api_client.patch(item_url(item.pk), {"quantity": 4}, headers=headers)

    assert changed.status_code == 200, changed.content
    assert changed.json()["lines"][0]["quantity"] == 4
    item.refresh_from_db()
    assert item.quantity == 4

    too_many = api_client.patch(item_url(item.pk), {"quantity": 6}, headers=headers)
    assert_error(too_many, 409, "insufficient_stock", fields=("quantity",))
    assert_error(
        api_client.patch(item_url(item.pk), {"quantity": -1}, headers=headers),
        400,
        "invalid",
        fields=("quantity",),
    )
    assert_error(
        api_client.patch(item_url(item.pk), {}, headers=headers), 400, "invalid", ("quantity",)
    )
    item.refresh_from_db()
    assert item.quantity == 4

    removed = api_client.patch(item_url(item.pk), {"quantity": 0}, headers=headers)

    assert removed.status_code == 200
    assert removed.json()["lines"] == []
    assert not CartItem.objects.exists()


def test_delete_a_line_and_clear_the_cart(api_client):
    cart = CartFactory()
    first, second, third = CartItemFactory.create_batch(3, cart=cart)

    response = api_client.delete(item_url(first.pk), headers=session(cart))

    assert response.status_code == 204
    assert set(cart.items.values_list("pk", flat=True)) == {second.pk, third.pk}

    cleared = api_client.delete(CART, headers=session(cart))

    assert cleared.status_code == 204
    assert not cart.items.exists()
    assert Cart.objects.filter(pk=cart.pk).exists()


def test_a_line_of_another_cart_is_404(api_client, auth_client):
    mine = CartFactory()
    theirs = CartItemFactory(quantity=1, variant__stock=5)
    member_line = CartItemFactory(cart=CartFactory(user=UserFactory()))

    for pk in (theirs.pk, member_line.pk, 10**20):
        assert_error(
            api_client.patch(item_url(pk), {"quantity": 2}, headers=session(mine)),
            404,
            "not_found",
        )
        assert_error(api_client.delete(item_url(pk), headers=session(mine)), 404, "not_found")
        assert_error(auth_client.delete(item_url(pk)), 404, "not_found")

    theirs.refresh_from_db()
    assert theirs.quantity == 1
    assert CartItem.objects.count() == 2


# --- Cart: members ------------------------------------------------------------------------------
def test_members_use_their_own_cart_without_a_header(auth_client, user):
    variant = VariantFactory(stock=5)

    added = auth_client.post(CART_ITEMS, {"variant": variant.pk})
    shown = auth_client.get(CART)

    assert added.status_code == 201
    assert HEADER not in shown
    assert shown.json()["token"] == str(user.cart.token)
    assert list(user.cart.items.values_list("variant_id", flat=True)) == [variant.pk]


def test_a_member_request_with_an_anonymous_header_merges_that_cart(auth_client, user):
    mine = CartItemFactory(cart=CartFactory(user=user), quantity=1, variant__stock=9)
    anonymous = CartFactory()
    CartItemFactory(cart=anonymous, variant=mine.variant, quantity=2)
    extra = CartItemFactory(cart=anonymous, quantity=1)

    response = auth_client.get(CART, headers=session(anonymous))

    assert response.status_code == 200
    quantities = {line["variant"]["id"]: line["quantity"] for line in response.json()["lines"]}
    assert quantities == {mine.variant_id: 3, extra.variant_id: 1}
    assert not Cart.objects.filter(pk=anonymous.pk).exists()
    assert Cart.objects.get().user == user


def test_a_line_shows_its_variants_own_picture_else_the_products_first(api_client, method):
    product = ProductFactory(variants=0)
    plain, blue = VariantFactory(product=product), VariantFactory(product=product)
    first = ProductImageFactory(product=product, position=0)
    own = ProductImageFactory(product=product, variant=blue, position=1)
    cart = CartFactory()
    CartItemFactory(cart=cart, variant=plain)
    CartItemFactory(cart=cart, variant=blue)

    body = api_client.get(CART, headers=session(cart)).json()
    thumbnails = {line["variant"]["id"]: line["variant"]["thumbnail"] for line in body["lines"]}
    assert thumbnails[plain.pk] == f"http://testserver{first.thumbnail.url}"
    assert thumbnails[blue.pk] == f"http://testserver{own.thumbnail.url}"

    order = services.order_place(
        cart=cart, email="guest@example.com", shipping_address=ADDRESS, shipping_method=method
    )
    assert dict(order.lines.values_list("variant", "image")) == {
        plain.pk: first.image.name,
        blue.pk: own.image.name,
    }


@pytest.mark.parametrize("lines", [1, 10])
def test_cart_costs_the_same_queries_for_1_and_10_lines(
    lines, api_client, django_assert_num_queries
):
    cart = CartFactory()
    for _ in range(lines):
        item = CartItemFactory(cart=cart)
        ProductImageFactory(product=item.variant.product)
    api_client.get(CART, headers=session(cart))  # thumbnails are generated on first sight

    # The cart; its lines with variants and products; their images.
    with django_assert_num_queries(3):
        response = api_client.get(CART, headers=session(cart))

    assert len(response.json()["lines"]) == lines


# --- Checkout (members) -------------------------------------------------------------------------
def test_checkout_places_the_order_moves_stock_and_empties_the_cart(
    auth_client, user, method, emails_sent
):
    cart = CartFactory(user=user)
    tree = CartItemFactory(cart=cart, quantity=2, variant__stock=5, variant__price=Decimal("30.00"))
    ProductImageFactory(product=tree.variant.product)
    tool = CartItemFactory(cart=cart, quantity=1, variant__stock=1, variant__price=Decimal("9.99"))
    DiscountCodeFactory(code="SPRING", value=Decimal("10"))

    with emails_sent():
        response = auth_client.post(
            CHECKOUT,
            {
                "shipping_address": ADDRESS,
                "shipping_method": method.pk,
                "discount_code": "spring",
                "note": "Leave it at the door",
            },
        )

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert (order.number, order.user, order.email) == (body["number"], user, user.email)
    assert order.customer_note == "Leave it at the door"
    assert body["status"] == "pending_payment"
    assert body["status_display"] == "Awaiting payment"
    assert (body["email"], body["email_verified"], body["can_pay"]) == (user.email, True, True)
    assert (
        body["subtotal"],
        body["discount_total"],
        body["shipping_total"],
        body["total"],
    ) == ("69.99", "7.00", "4.90", "67.89")
    assert (body["discount_code"], body["shipping_method_name"]) == ("SPRING", method.name)
    assert body["shipping_address"] == ADDRESS
    image_line, plain_line = body["lines"]
    assert image_line["image"].startswith("http://testserver/media/products/")
    assert {k: v for k, v in image_line.items() if k != "image"} == {
        "sku": tree.variant.sku,
        "product_name": tree.variant.product.name,
        "variant_name": tree.variant.name,
        "unit_price": "30.00",
        "quantity": 2,
        "line_total": "60.00",
        "is_digital": False,
    }
    assert (plain_line["sku"], plain_line["image"]) == (tool.variant.sku, None)
    [placed] = body["status_history"]
    assert (placed["from"], placed["to"], placed["note"]) == (None, "pending_payment", "")
    assert body["expires_at"]
    assert body["paid_at"] is None
    assert list(order.lines.values_list("sku", "quantity")) == [
        (tree.variant.sku, 2),
        (tool.variant.sku, 1),
    ]
    assert dict(ProductVariant.objects.values_list("pk", "stock")) == {
        tree.variant_id: 3,
        tool.variant_id: 0,
    }
    assert not cart.items.exists()
    assert [m.to for m in mail.outbox] == [[user.email]]
    # The answer is built from the order in hand: it reads as the stored order does.
    assert auth_client.get(f"{ORDERS}/{order.number}").json() == body


@pytest.mark.parametrize("lines", [1, 3])
def test_checkout_answers_from_the_order_in_hand(
    lines, auth_client, user, method, django_assert_num_queries
):
    cart = CartFactory(user=user)
    for _ in range(lines):
        item = CartItemFactory(cart=cart)
        ProductImageFactory(product=item.variant.product)

    # The member and their cart, then placing the order (17 queries without a discount code:
    # orders/tests/test_services.py counts them). Nothing is read back for the answer.
    with django_assert_num_queries(19):
        response = auth_client.post(
            CHECKOUT, {"shipping_address": ADDRESS, "shipping_method": method.pk}
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (len(body["lines"]), len(body["status_history"])) == (lines, 1)


def test_checkout_with_a_saved_address_copies_it(auth_client, user, method):
    CartItemFactory(cart=CartFactory(user=user))
    address = AddressFactory(user=user, city="Portland", region="OR", country="US")

    response = auth_client.post(CHECKOUT, {"address_id": address.pk, "shipping_method": method.pk})

    assert response.status_code == 201, response.content
    assert response.json()["shipping_address"] == {
        "recipient": address.recipient,
        "phone": address.phone,
        "line1": address.line1,
        "line2": "",
        "city": "Portland",
        "region": "OR",
        "postal_code": address.postal_code,
        "country": "US",
    }


def test_checkout_refuses_another_users_address(auth_client, user, method):
    CartItemFactory(cart=CartFactory(user=user))
    theirs = AddressFactory()

    response = auth_client.post(CHECKOUT, {"address_id": theirs.pk, "shipping_method": method.pk})

    assert_error(response, 400, "invalid", fields=("address_id",))
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("payload", "code", "fields"),
    [
        ({"address_id": 1, "shipping_address": ADDRESS}, "invalid", ("address_id",)),
        (
            {"shipping_address": {**ADDRESS, "line1": "", "country": "XX"}},
            "invalid",
            ("shipping_address",),
        ),
        ({"shipping_address": ADDRESS, "shipping_method": "fast"}, "invalid", ("shipping_method",)),
        ({"shipping_address": ADDRESS, "note": "x" * 501}, "invalid", ("note",)),
        ({"shipping_address": ADDRESS}, "shipping_method_required", ("shipping_method",)),
        ({"shipping_method": "METHOD"}, "address_required", ("shipping_address.line1",)),
        (
            {"shipping_address": ADDRESS, "shipping_method": "METHOD", "discount_code": "NOPE"},
            "discount_unknown",
            ("discount_code",),
        ),
    ],
)
def test_checkout_refuses_bad_input_with_field_messages(
    auth_client, user, method, payload, code, fields
):
    item = CartItemFactory(cart=CartFactory(user=user), quantity=2, variant__stock=5)
    if payload.get("shipping_method") == "METHOD":
        payload["shipping_method"] = method.pk

    response = auth_client.post(CHECKOUT, payload)

    assert_error(response, 400, code, fields=fields)
    assert not Order.objects.exists()
    item.variant.refresh_from_db()
    assert item.variant.stock == 5
    assert CartItem.objects.filter(pk=item.pk).exists()


def test_checkout_of_an_empty_cart_is_400(auth_client):
    response = auth_client.post(CHECKOUT, {"shipping_address": ADDRESS})

    error = assert_error(response, 400, "cart_empty")
    assert error["lines"] == []


def test_checkout_with_a_short_line_is_409_naming_it(auth_client, user, method):
    cart = CartFactory(user=user)
    fine = CartItemFactory(cart=cart, quantity=1, variant__stock=5)
    short = CartItemFactory(cart=cart, quantity=3, variant__stock=3)
    ProductVariant.objects.filter(pk=short.variant_id).update(stock=1)

    response = auth_client.post(
        CHECKOUT, {"shipping_address": ADDRESS, "shipping_method": method.pk}
    )

    error = assert_error(response, 409, "cart_has_problems")
    assert error["lines"] == [
        {
            "item_id": short.pk,
            "variant_id": short.variant_id,
            "sku": short.variant.sku,
            "problem": "insufficient_stock",
            "available": 1,
            "message": "Only 1 left.",
        }
    ]
    assert not Order.objects.exists()
    assert dict(ProductVariant.objects.values_list("pk", "stock")) == {
        fine.variant_id: 5,
        short.variant_id: 1,
    }
    assert cart.items.count() == 2


def test_checkout_uses_and_merges_the_anonymous_cart_of_the_header(auth_client, user, method):
    anonymous = CartFactory()
    item = CartItemFactory(cart=anonymous, quantity=2, variant__stock=5)

    response = auth_client.post(
        CHECKOUT,
        {"shipping_address": ADDRESS, "shipping_method": method.pk},
        headers=session(anonymous),
    )

    assert response.status_code == 201, response.content
    assert [(line["sku"], line["quantity"]) for line in response.json()["lines"]] == [
        (item.variant.sku, 2)
    ]
    assert not Cart.objects.filter(pk=anonymous.pk).exists()


def test_checkout_needs_a_member(api_client):
    cart = CartItemFactory().cart

    response = api_client.post(CHECKOUT, {"shipping_address": ADDRESS}, headers=session(cart))

    assert_error(response, 401, "not_authenticated")
    assert not Order.objects.exists()


# --- Guests -------------------------------------------------------------------------------------
def guest_checkout(client, cart, method, **extra):
    payload = {
        "email": "Guest@Example.com",
        "shipping_address": ADDRESS,
        "shipping_method": method.pk,
        **extra,
    }
    return client.post(GUEST_CHECKOUT, payload, headers=session(cart))


def test_guest_checkout_emails_a_code_and_shows_no_personal_data(api_client, method, emails_sent):
    cart = CartFactory()
    item = CartItemFactory(cart=cart, quantity=2, variant__stock=5)

    with emails_sent():
        response = guest_checkout(api_client, cart, method)

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert body["verification"] == "sent"
    assert body["order"]["number"] == order.number
    assert (body["order"]["email_verified"], body["order"]["can_pay"]) == (False, False)
    assert not {"email", "shipping_address", "status_history"} & body["order"].keys()
    assert (order.user, order.email, order.email_verified_at) == (None, "guest@example.com", None)
    assert order.lines.get().quantity == 2
    item.variant.refresh_from_db()
    assert item.variant.stock == 3
    assert not cart.items.exists()
    [email] = mail.outbox
    assert email.to == ["guest@example.com"]
    assert tokens.guest_code(order) in email.body


def test_guest_checkout_validation_and_an_empty_cart(api_client, method):
    cart = CartItemFactory().cart

    missing = guest_checkout(api_client, cart, method, email="not-an-email")
    assert_error(missing, 400, "invalid", fields=("email",))

    without_cart = api_client.post(
        GUEST_CHECKOUT,
        {"email": "guest@example.com", "shipping_address": ADDRESS, "shipping_method": method.pk},
    )
    assert_error(without_cart, 400, "cart_empty")
    assert not Order.objects.exists()


def test_guest_checkout_with_a_sold_out_line_is_409(api_client, method):
    item = CartItemFactory(quantity=1, variant__stock=1)
    ProductVariant.objects.filter(pk=item.variant_id).update(stock=0)

    error = assert_error(guest_checkout(api_client, item.cart, method), 409, "cart_has_problems")

    assert [(line["sku"], line["problem"]) for line in error["lines"]] == [
        (item.variant.sku, "sold_out")
    ]


def test_guest_verifies_with_the_code_and_reads_the_order_later(api_client):
    order = place_order()

    response = api_client.post(
        GUEST_VERIFY, {"number": order.number.lower(), "code": tokens.guest_code(order)}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["order"]["number"] == order.number
    assert (body["order"]["email_verified"], body["order"]["can_pay"]) == (True, True)
    assert body["order"]["email"] == "guest@example.com"
    order.refresh_from_db()
    assert order.email_verified_at is not None

    later = api_client.get(guest_order_url(body["access_token"]))

    assert later.status_code == 200
    assert later.json()["number"] == order.number
    assert later.json()["shipping_address"]["line1"] == ADDRESS["line1"]


def test_guest_verifies_with_the_link_token(api_client):
    order = place_order()

    response = api_client.post(GUEST_VERIFY, {"token": tokens.guest_token(order)})

    assert response.status_code == 200, response.content
    assert response.json()["order"]["email_verified"] is True
    assert tokens.guest_token_check(response.json()["access_token"]) == order.pk


def test_a_wrong_code_or_token_is_400_and_verifies_nothing(api_client):
    order = place_order()
    wrong = "000000" if tokens.guest_code(order) != "000000" else "111111"

    by_code = api_client.post(GUEST_VERIFY, {"number": order.number, "code": wrong})
    by_token = api_client.post(GUEST_VERIFY, {"token": tokens.guest_token(order) + "x"})
    unknown = api_client.post(GUEST_VERIFY, {"number": "ZZZZ-ZZZZ", "code": "123456"})

    assert_error(by_code, 400, "verification_failed", fields=("code",))
    assert_error(by_token, 400, "verification_failed", fields=("token",))
    assert_error(unknown, 400, "verification_failed")
    order.refresh_from_db()
    assert order.email_verified_at is None


def test_verify_needs_a_token_or_a_number_and_code(api_client):
    assert_error(api_client.post(GUEST_VERIFY, {}), 400, "invalid", fields=("number", "code"))
    assert_error(api_client.post(GUEST_VERIFY, {"number": "AB"}), 400, "invalid", ("code",))


def test_guest_verify_is_throttled_so_codes_cannot_be_guessed(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "3/min", "general": "100/min", "uploads": "10/min"},
    }
    order = place_order()
    wrong = "000000" if tokens.guest_code(order) != "000000" else "111111"
    for _ in range(3):
        response = api_client.post(GUEST_VERIFY, {"number": order.number, "code": wrong})
        assert response.status_code == 400

    right = api_client.post(
        GUEST_VERIFY, {"number": order.number, "code": tokens.guest_code(order)}
    )

    assert_error(right, 429, "throttled")
    order.refresh_from_db()
    assert order.email_verified_at is None


def test_an_unknown_guest_token_is_404(api_client):
    order = place_order()

    assert_error(api_client.get(guest_order_url("forged:token")), 404, "not_found")
    Order.objects.filter(pk=order.pk).update(email="someone@example.com")
    assert_error(api_client.get(guest_order_url(tokens.guest_token(order))), 404, "not_found")


# --- Orders -------------------------------------------------------------------------------------
def test_the_order_list_shows_only_mine_newest_first(auth_client, user):
    older, newer = place_order(user=user), place_order(user=user)
    place_order(user=UserFactory())
    place_order()

    response = auth_client.get(ORDERS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [o["number"] for o in body["results"]] == [newer.number, older.number]


def test_the_order_list_filters_by_status(auth_client, user):
    unpaid, cancelled = place_order(user=user), place_order(user=user)
    services.order_cancel_by_customer(order=cancelled, user=user)

    response = auth_client.get(ORDERS, {"status": "cancelled"})

    assert [o["number"] for o in response.json()["results"]] == [cancelled.number]
    assert [
        o["number"]
        for o in auth_client.get(ORDERS, {"status": "pending_payment"}).json()["results"]
    ] == [unpaid.number]
    assert_error(auth_client.get(ORDERS, {"status": "lost"}), 400, "invalid", ("status",))


def test_orders_need_a_member(api_client):
    assert_error(api_client.get(ORDERS), 401, "not_authenticated")


def test_an_order_by_its_number(auth_client, user):
    order = place_order(user=user)

    response = auth_client.get(order_url(order.number))
    lowercase = auth_client.get(order_url(order.number.lower()))

    assert response.status_code == 200
    assert response.json()["number"] == order.number
    assert lowercase.json()["number"] == order.number


def test_another_users_order_is_404(auth_client):
    theirs = place_order(user=UserFactory())
    guest = place_order()

    for order in (theirs, guest):
        assert_error(auth_client.get(order_url(order.number)), 404, "not_found")
        assert_error(auth_client.post(cancel_url(order.number)), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.status == Status.PENDING_PAYMENT


def test_staff_may_read_any_order(staff_api_client):
    order = place_order(user=UserFactory())

    response = staff_api_client.get(order_url(order.number))

    assert response.status_code == 200
    assert response.json()["email"] == order.email


def test_cancel_an_unpaid_order_puts_its_stock_back(auth_client, user, emails_sent):
    order = place_order(user=user, quantity=2, stock=5)
    variant = order.lines.get().variant
    variant.refresh_from_db()
    assert variant.stock == 3

    with emails_sent():
        response = auth_client.post(cancel_url(order.number))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancelled_at"]
    assert [(h["from"], h["to"]) for h in body["status_history"]] == [
        (None, "pending_payment"),
        ("pending_payment", "cancelled"),
    ]
    variant.refresh_from_db()
    assert variant.stock == 5


def test_a_paid_order_cannot_be_cancelled_by_the_customer(auth_client, user):
    order = place_order(user=user, quantity=2, stock=5)
    services.order_transition(order=order, to=Status.PAID)

    response = auth_client.post(cancel_url(order.number))

    assert_error(response, 400, "illegal_transition")
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert OrderLine.objects.get().variant.stock == 3


def test_staff_move_an_order_along(staff_api_client, staff):
    order = place_order(user=UserFactory())
    services.order_transition(order=order, to=Status.PAID)

    processing = staff_api_client.patch(
        status_url(order.number), {"status": "processing", "note": "Packing"}
    )
    shipped = staff_api_client.patch(
        status_url(order.number),
        {"status": "shipped", "tracking_number": "1Z999", "carrier": "UPS"},
    )

    assert processing.status_code == 200, processing.content
    assert shipped.status_code == 200, shipped.content
    body = shipped.json()
    assert (body["status"], body["tracking_number"], body["carrier"]) == (
        "shipped",
        "1Z999",
        "UPS",
    )
    assert body["shipped_at"]
    assert [(h["from"], h["to"], h["note"]) for h in body["status_history"][1:]] == [
        ("pending_payment", "paid", ""),
        ("paid", "processing", "Packing"),
        ("processing", "shipped", ""),
    ]
    order.refresh_from_db()
    assert order.status == Status.SHIPPED
    assert order.status_changes.last().changed_by == staff


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"status": "shipped", "tracking_number": "1Z"}, "illegal_transition", "status"),
        ({"status": "delivered"}, "illegal_transition", "status"),
        ({"status": "lost"}, "invalid", "status"),
        ({}, "invalid", "status"),
    ],
)
def test_staff_cannot_make_an_illegal_move(staff_api_client, payload, code, field):
    order = place_order()

    response = staff_api_client.patch(status_url(order.number), payload)

    assert_error(response, 400, code, fields=(field,))
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT


def test_shipping_needs_a_tracking_number(staff_api_client):
    order = place_order()
    services.order_transition(order=order, to=Status.PAID)
    services.order_transition(order=order, to=Status.PROCESSING)

    response = staff_api_client.patch(status_url(order.number), {"status": "shipped"})

    assert_error(response, 400, "tracking_number_required", fields=("tracking_number",))


def test_only_staff_change_the_status(auth_client, user, api_client):
    order = place_order(user=user)

    assert_error(
        auth_client.patch(status_url(order.number), {"status": "paid"}), 403, "permission_denied"
    )
    assert_error(
        api_client.patch(status_url(order.number), {"status": "paid"}), 401, "not_authenticated"
    )
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT


@pytest.mark.parametrize("rows", [3, 30])
def test_the_order_list_costs_the_same_queries_for_3_and_30_orders(
    rows, user, django_assert_num_queries
):
    for _ in range(rows):
        place_order(user=user)
    client = APIClient()
    client.force_authenticate(user)

    # The count, the page of orders, their lines, their status history.
    with django_assert_num_queries(4):
        response = client.get(ORDERS, {"page_size": 30})

    assert len(response.json()["results"]) == rows


# --- Shipping methods ---------------------------------------------------------------------------
def test_shipping_methods_lists_the_active_ones(api_client, django_assert_num_queries):
    standard = ShippingMethodFactory(name="Standard", position=0, free_above=None)
    express = ShippingMethodFactory(name="Express", position=1, fee=Decimal("12.00"))
    ShippingMethodFactory(name="Retired", is_active=False)

    with django_assert_num_queries(2):
        response = api_client.get(SHIPPING_METHODS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"] == [
        {
            "id": standard.pk,
            "name": "Standard",
            "code": standard.code,
            "description": "",
            "fee": "4.90",
            "free_above": None,
            "currency": "EUR",
        },
        {
            "id": express.pk,
            "name": "Express",
            "code": express.code,
            "description": "",
            "fee": "12.00",
            "free_above": "100.00",
            "currency": "EUR",
        },
    ]
