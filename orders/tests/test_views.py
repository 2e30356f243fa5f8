"""The shopper's pages: cart (with and without htmx), checkout, confirmation, order history,
cancelling, the guest's link. Query counts are pinned on the cart, checkout and order pages."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import AddressFactory, UserFactory
from catalog.models import Product, ProductVariant
from catalog.tests.factories import ProductFactory, ProductImageFactory, VariantFactory
from orders import services, tokens
from orders.models import Cart, CartItem, Order
from orders.tests.factories import (
    ADDRESS,
    CartFactory,
    CartItemFactory,
    DiscountCodeFactory,
    ShippingMethodFactory,
)

pytestmark = pytest.mark.django_db
Status = Order.Status
HX = {"HTTP_HX_REQUEST": "true"}
CART = reverse("orders:cart")
ADD = reverse("orders:cart-add")
CHECKOUT = reverse("orders:checkout")
CONTEXT_PROCESSOR = "orders.context_processors.cart"


@pytest.fixture(autouse=True)
def _cart_count_in_header(settings):
    """The header's cart count, as the project's settings register it."""
    engine = settings.TEMPLATES[0]
    processors = engine["OPTIONS"]["context_processors"]
    if CONTEXT_PROCESSOR not in processors:
        settings.TEMPLATES = [
            {
                **engine,
                "OPTIONS": {
                    **engine["OPTIONS"],
                    "context_processors": [*processors, CONTEXT_PROCESSOR],
                },
            },
            *settings.TEMPLATES[1:],
        ]


@pytest.fixture
def member_client(client, user):
    client.force_login(user)
    return client


def variant(**fields) -> ProductVariant:
    fields.setdefault("stock", 10)
    fields.setdefault("price", Decimal("20.00"))
    return VariantFactory(**fields)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def header_count(response) -> str:
    """The number in the header's cart badge ("" when it is hidden)."""
    html = response.content.decode()
    start = html.index('id="cart-count"')
    tag_end = html.index(">", start)
    if " hidden" in html[start:tag_end]:
        return ""
    return html[tag_end + 1 : html.index("<", tag_end)]


def session_cart(client) -> Cart:
    return Cart.objects.get(token=client.session[services.CART_SESSION_KEY])


# --- Cart: adding ---------------------------------------------------------------------------


def test_anonymous_add_keeps_the_cart_in_the_session_and_redirects_to_the_cart(client):
    item = variant(stock=5)

    response = client.post(ADD, {"variant": item.pk, "quantity": 2})

    assert response.status_code == 302
    assert response.url == CART
    cart = session_cart(client)
    assert cart.user is None
    assert list(cart.items.values_list("variant_id", "quantity")) == [(item.pk, 2)]
    page = client.get(CART)
    assert f"Added {item.product.name} ({item.name}) to your cart." in messages_of(page)
    assert header_count(page) == "2"
    assert item.product.name in page.content.decode()


def test_member_add_uses_the_members_cart(member_client, user):
    item = variant()

    response = member_client.post(ADD, {"variant": item.pk, "quantity": 1})

    assert response.status_code == 302
    assert Cart.objects.get(user=user).items.get().variant_id == item.pk
    assert services.CART_SESSION_KEY not in member_client.session


def test_add_with_htmx_returns_the_cart_fragment_and_the_header_count(client):
    item = variant()

    response = client.post(ADD, {"variant": item.pk, "quantity": 3}, **HX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="cart-body"' in html
    assert 'id="cart-count" class="cart-count" hx-swap-oob="true">3<' in html
    assert 'id="cart-status" hx-swap-oob="innerHTML"' in html
    assert "to your cart." in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("abc", "Enter a whole number."),
        ("-1", "Enter at least 1."),
        ("1000", "At most 99 of one item per order."),
        ("", "Enter a quantity."),
    ],
)
def test_add_refuses_a_bad_quantity_with_a_message_and_400(client, quantity, message):
    item = variant()

    response = client.post(ADD, {"variant": item.pk, "quantity": quantity})

    assert response.status_code == 400
    assert messages_of(response) == [message]
    assert not CartItem.objects.exists()


def test_add_refuses_more_than_the_stock_and_unknown_or_hidden_items(client):
    short = variant(stock=2)
    hidden = variant(product=ProductFactory(status=Product.Status.DRAFT))

    too_many = client.post(ADD, {"variant": short.pk, "quantity": 3})
    unknown = client.post(ADD, {"variant": 999999, "quantity": 1})
    draft = client.post(ADD, {"variant": hidden.pk, "quantity": 1}, **HX)

    assert too_many.status_code == 409
    assert messages_of(too_many) == ["Only 2 left."]
    assert unknown.status_code == 400
    assert messages_of(unknown) == ["This item is not available."]
    assert draft.status_code == 400
    assert "This item is not available." in draft.content.decode()
    assert not CartItem.objects.exists()


def test_cart_actions_need_post(client):
    assert client.get(ADD).status_code == 405
    assert client.get(reverse("orders:cart-clear")).status_code == 405


# --- Cart: the page, updating, removing, clearing -------------------------------------------------


def anonymous_cart(client, *quantities, **variant_fields) -> list[CartItem]:
    cart = CartFactory()
    session = client.session
    session[services.CART_SESSION_KEY] = str(cart.token)
    session.save()
    return [
        CartItemFactory(cart=cart, variant=variant(**variant_fields), quantity=q)
        for q in quantities
    ]


def test_empty_cart_page_invites_to_shop(client):
    response = client.get(CART)

    assert response.status_code == 200
    assert "Your cart is empty" in response.content.decode()
    assert header_count(response) == ""
    assert not Cart.objects.exists()  # looking does not create a cart


def test_cart_page_shows_lines_subtotal_and_flags_problems(client):
    fine, short = anonymous_cart(client, 2, 3)
    ProductImageFactory(product=fine.variant.product, alt_text="A juniper in a pot")
    ProductVariant.objects.filter(pk=short.variant_id).update(stock=1)

    response = client.get(CART)

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["totals"].subtotal == Decimal("100.00")
    assert 'alt="A juniper in a pot"' in html
    assert "Only 1 left." in html
    assert 'id="cart-blocked"' in html
    assert reverse("orders:checkout") not in html.split('id="cart-blocked"')[1][:200]
    assert header_count(response) == "5"


def test_update_quantity_without_and_with_htmx(client):
    (item,) = anonymous_cart(client, 1)
    url = reverse("orders:cart-update", args=[item.pk])

    plain = client.post(url, {"quantity": 4})
    assert plain.status_code == 302
    item.refresh_from_db()
    assert item.quantity == 4

    hx = client.post(url, {"quantity": 2}, **HX)
    assert hx.status_code == 200
    item.refresh_from_db()
    assert item.quantity == 2
    html = hx.content.decode()
    assert 'id="cart-subtotal">€40.00<' in html
    assert 'hx-swap-oob="true">2<' in html
    assert "quantity changed to 2" in html


@pytest.mark.parametrize("page", ["orders:cart", "orders:checkout"])
def test_htmx_pages_send_the_csrf_token_that_the_server_checks(page):
    shopper = Client(enforce_csrf_checks=True)
    (item,) = anonymous_cart(shopper, 1)

    html = shopper.get(reverse(page)).content.decode()

    assert "htmx.min" in html
    token = re.search(r'<body hx-headers=\'{"X-CSRFToken": "([^"]+)"}\'>', html).group(1)
    url = reverse("orders:cart-update", args=[item.pk])
    assert shopper.post(url, {"quantity": 2}, **HX).status_code == 403
    answer = shopper.post(url, {"quantity": 2}, headers={"X-CSRFToken": token}, **HX)
    assert answer.status_code == 200
    item.refresh_from_db()
    assert item.quantity == 2


def test_update_to_zero_removes_the_line(client):
    (item,) = anonymous_cart(client, 2)

    response = client.post(reverse("orders:cart-update", args=[item.pk]), {"quantity": 0}, **HX)

    assert response.status_code == 200
    assert not CartItem.objects.exists()
    assert "Your cart is empty" in response.content.decode()


@pytest.mark.parametrize("quantity", ["abc", "-1", "1000"])
def test_update_refuses_bad_quantities_with_400(client, quantity):
    (item,) = anonymous_cart(client, 2)

    response = client.post(reverse("orders:cart-update", args=[item.pk]), {"quantity": quantity})

    assert response.status_code == 400
    assert len(messages_of(response)) == 1
    item.refresh_from_db()
    assert item.quantity == 2


def test_update_beyond_the_stock_is_refused_with_the_line_named(client):
    (item,) = anonymous_cart(client, 1, stock=3)

    response = client.post(reverse("orders:cart-update", args=[item.pk]), {"quantity": 5}, **HX)

    assert response.status_code == 409
    assert f"{item.variant.product.name} ({item.variant.name}): Only 3 left." in (
        response.content.decode()
    )
    item.refresh_from_db()
    assert item.quantity == 1


def test_another_carts_item_or_an_unknown_one_is_404(client):
    anonymous_cart(client, 1)
    someone_else = CartItemFactory(quantity=1)

    for url in (
        reverse("orders:cart-update", args=[someone_else.pk]),
        reverse("orders:cart-remove", args=[someone_else.pk]),
        reverse("orders:cart-update", args=[999999]),
    ):
        response = client.post(url, {"quantity": 5})
        assert response.status_code == 404
        assert messages_of(response) == ["This item is not in your cart."]
    someone_else.refresh_from_db()
    assert someone_else.quantity == 1


def test_without_a_cart_an_item_is_404_not_an_error(client):
    response = client.post(reverse("orders:cart-remove", args=[1]), **HX)

    assert response.status_code == 404
    assert "This item is not in your cart." in response.content.decode()


def test_remove_and_clear(client):
    first, second, third = anonymous_cart(client, 1, 2, 3)

    removed = client.post(reverse("orders:cart-remove", args=[first.pk]))
    assert removed.status_code == 302
    assert set(CartItem.objects.values_list("pk", flat=True)) == {second.pk, third.pk}

    hx = client.post(reverse("orders:cart-remove", args=[second.pk]), **HX)
    assert hx.status_code == 200
    assert 'hx-swap-oob="true">3<' in hx.content.decode()

    cleared = client.post(reverse("orders:cart-clear"), **HX)
    assert cleared.status_code == 200
    assert not CartItem.objects.exists()
    assert 'id="cart-count" class="cart-count" hx-swap-oob="true" hidden>' in (
        cleared.content.decode()
    )


def test_member_cart_actions(member_client, user):
    cart = CartFactory(user=user)
    item = CartItemFactory(cart=cart, variant=variant(), quantity=1)

    page = member_client.get(CART)
    assert header_count(page) == "1"
    member_client.post(reverse("orders:cart-update", args=[item.pk]), {"quantity": 3}, **HX)
    item.refresh_from_db()
    assert item.quantity == 3
    member_client.post(reverse("orders:cart-clear"))
    assert not cart.items.exists()


def test_header_count_on_other_pages(client):
    anonymous_cart(client, 2, 1)

    response = client.get(reverse("catalog:products"))

    assert header_count(response) == "3"


def test_login_through_the_login_page_keeps_the_anonymous_lines(client, user, password):
    mine = CartFactory(user=user)
    CartItemFactory(cart=mine, variant=variant(), quantity=1)
    item = variant(stock=5)
    client.post(ADD, {"variant": item.pk, "quantity": 2})

    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": password}
    )

    assert response.status_code == 302
    assert services.CART_SESSION_KEY not in client.session
    assert Cart.objects.count() == 1
    page = client.get(CART)
    assert len(page.context["rows"]) == 2
    assert header_count(page) == "3"


# --- Product page ----------------------------------------------------------------------------


def test_product_page_has_an_add_to_cart_form_disabled_when_sold_out(client):
    item = variant(stock=3)
    sold_out = variant(stock=0)

    html = client.get(item.product.get_absolute_url()).content.decode()
    gone = client.get(sold_out.product.get_absolute_url()).content.decode()

    assert f'action="{ADD}"' in html
    assert f'name="variant" value="{item.pk}"' in html
    assert 'max="3"' in html
    assert ">Add to cart</button>" in html
    assert ">Sold out</button>" in gone
    assert "disabled>Sold out" in gone


# --- Checkout ------------------------------------------------------------------------------------


def address_data(**overrides) -> dict:
    return {**ADDRESS, **overrides}


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client):
    response = client.get(CHECKOUT)

    assert response.status_code == 302
    assert response.url == CART


def test_checkout_with_problems_goes_back_to_the_cart(client):
    anonymous_cart(client, 5, stock=2)

    response = client.get(CHECKOUT)

    assert response.status_code == 302
    assert response.url == CART


def test_member_checkout_with_a_saved_address(member_client, user, emails_sent):
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, variant=variant(price=Decimal("30.00"), stock=4), quantity=2)
    saved = AddressFactory(user=user, is_default=True, recipient="Ada Maple", country="GB")
    method = ShippingMethodFactory(fee=Decimal("4.90"), free_above=None)

    page = member_client.get(CHECKOUT)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="{user.email}"' in html
    assert page.context["form"].fields["email"].disabled
    assert f'name="saved_address" value="{saved.pk}" checked' in html

    with emails_sent():
        response = member_client.post(
            CHECKOUT,
            {
                "email": "someone-else@example.com",
                "saved_address": saved.pk,
                "shipping_method": method.pk,
                "action": "place",
            },
        )

    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders:confirmation", args=[order.number])
    assert (order.user, order.email) == (user, user.email)
    assert order.email_verified_at is not None
    assert (order.ship_recipient, order.ship_line1) == ("Ada Maple", saved.line1)
    assert order.total == Decimal("64.90")
    assert not cart.items.exists()
    assert [m.to for m in mail.outbox] == [[user.email]]

    thanks = member_client.get(response.url)
    assert thanks.status_code == 200
    assert order.number in thanks.content.decode()
    assert "awaiting payment" in thanks.content.decode()


def test_member_checkout_with_a_new_address(member_client, user):
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, variant=variant())
    AddressFactory(user=user)
    method = ShippingMethodFactory()

    response = member_client.post(
        CHECKOUT,
        {"saved_address": "new", **address_data(city="Leeds"), "shipping_method": method.pk},
    )

    assert response.status_code == 302
    assert Order.objects.get().ship_city == "Leeds"


def test_guest_checkout_remembers_the_order_in_the_session_only(client, emails_sent):
    anonymous_cart(client, 1, price=Decimal("12.00"))
    method = ShippingMethodFactory(fee=Decimal("4.90"), free_above=None)

    with emails_sent():
        response = client.post(
            CHECKOUT,
            {"email": "Guest@Example.com", **address_data(), "shipping_method": method.pk},
        )

    order = Order.objects.get()
    assert response.status_code == 302
    assert order.is_guest
    assert order.email == "guest@example.com"
    assert order.email_verified_at is None
    assert order.total == Decimal("16.90")
    assert mail.outbox[0].to == ["guest@example.com"]

    thanks = client.get(response.url)
    assert thanks.status_code == 200
    assert (
        "We sent a link to <strong>guest@example.com</strong>: open it to confirm your email, "
        "then you can pay."
    ) in thanks.content.decode()

    client.cookies.clear()  # another visitor with the same address
    assert client.get(response.url).status_code == 404


def test_guest_checkout_needs_an_email_address_method_and_keeps_the_values(client):
    anonymous_cart(client, 1)
    ShippingMethodFactory()

    response = client.post(CHECKOUT, {"email": "nope", "recipient": "Ada Maple", "city": "Leeds"})

    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"email", "line1", "postal_code", "country", "shipping_method"}
    html = response.content.decode()
    assert 'value="Ada Maple"' in html
    assert 'value="Leeds"' in html
    assert not Order.objects.exists()


def test_digital_only_checkout_needs_no_address_or_method(client):
    anonymous_cart(client, 1, product=ProductFactory(kind=Product.Kind.DIGITAL))
    ShippingMethodFactory()

    page = client.get(CHECKOUT)
    assert page.status_code == 200
    assert "no address needed" in page.content.decode()
    assert 'name="line1"' not in page.content.decode()

    response = client.post(CHECKOUT, {"email": "reader@example.com"})

    assert response.status_code == 302
    order = Order.objects.get()
    assert not order.needs_shipping
    assert order.shipping_total == 0


def test_checkout_with_an_empty_cart_is_refused(client):
    cart = CartFactory()
    session = client.session
    session[services.CART_SESSION_KEY] = str(cart.token)
    session.save()

    response = client.post(CHECKOUT, {"email": "a@example.com"})

    assert response.status_code == 400
    assert messages_of(response) == ["Your cart is empty."]
    assert not Order.objects.exists()


def test_checkout_short_stock_names_the_line_and_keeps_the_values(client):
    fine, short = anonymous_cart(client, 1, 3, stock=5)
    method = ShippingMethodFactory()
    ProductVariant.objects.filter(pk=short.variant_id).update(stock=1)

    response = client.post(
        CHECKOUT, {"email": "a@example.com", **address_data(), "shipping_method": method.pk}
    )

    assert response.status_code == 409
    assert messages_of(response) == ["Some items cannot be bought as they are in your cart."]
    rows = {row.line.item_id: row.problem for row in response.context["rows"]}
    assert rows == {fine.pk: "", short.pk: "Only 1 left."}
    assert 'value="a@example.com"' in response.content.decode()
    assert not Order.objects.exists()
    assert ProductVariant.objects.get(pk=fine.variant_id).stock == 5


def test_checkout_bad_discount_code_is_a_field_error(client):
    anonymous_cart(client, 1)
    method = ShippingMethodFactory()
    DiscountCodeFactory(code="OLD", ends_at=None, is_active=False)

    unknown = client.post(
        CHECKOUT,
        {
            "email": "a@example.com",
            **address_data(),
            "shipping_method": method.pk,
            "discount_code": "nothing",
        },
    )
    expired = client.post(
        CHECKOUT,
        {
            "email": "a@example.com",
            **address_data(),
            "shipping_method": method.pk,
            "discount_code": "old",
        },
    )

    assert unknown.status_code == 400
    assert unknown.context["form"].errors["discount_code"] == ["This code does not exist."]
    assert expired.status_code == 400
    assert "This code has expired." in expired.content.decode()
    assert not Order.objects.exists()


def test_apply_previews_the_discount_and_method_without_placing(client):
    anonymous_cart(client, 2, price=Decimal("25.00"))
    standard = ShippingMethodFactory(fee=Decimal("4.90"), free_above=None, position=0)
    express = ShippingMethodFactory(
        name="Express", fee=Decimal("9.90"), free_above=None, position=1
    )
    DiscountCodeFactory(code="TEN", value=Decimal("10"))

    first = client.get(CHECKOUT)
    assert first.context["chosen_method"] == standard
    assert first.context["totals"].total == Decimal("54.90")

    applied = client.post(
        CHECKOUT, {"action": "apply", "shipping_method": express.pk, "discount_code": "ten"}
    )

    assert applied.status_code == 200
    totals = applied.context["totals"]
    assert (totals.discount, totals.shipping, totals.total) == (
        Decimal("5.00"),
        Decimal("9.90"),
        Decimal("54.90"),
    )
    html = applied.content.decode()
    assert "Code applied" in html
    assert "This field is required." not in html
    assert not Order.objects.exists()

    refused = client.post(CHECKOUT, {"action": "apply", "discount_code": "NOPE"}, **HX)
    assert refused.status_code == 400
    assert "This code does not exist." in refused.content.decode()


def test_free_shipping_is_shown_as_free(client):
    anonymous_cart(client, 1, price=Decimal("150.00"))
    ShippingMethodFactory(fee=Decimal("4.90"), free_above=Decimal("100.00"))

    html = client.get(CHECKOUT).content.decode()

    assert 'class="choice__price">Free<' in html
    assert 'id="checkout-shipping">Free<' in html


# --- Orders -------------------------------------------------------------------------------------


def place_order(*, user=None, email="buyer@example.com", quantity=1, stock=10, **fields):
    cart = CartFactory(user=user) if user else CartFactory()
    CartItemFactory(cart=cart, variant=variant(stock=stock, **fields), quantity=quantity)
    return services.order_place(
        cart=cart,
        email=user.email if user else email,
        user=user,
        shipping_address=ADDRESS,
        shipping_method=ShippingMethodFactory(),
    )


def test_order_history_is_paginated_by_20(member_client, user):
    for _ in range(21):
        place_order(user=user)
        Cart.objects.filter(user=user).delete()
    place_order(user=UserFactory())

    first = member_client.get(reverse("orders:list"))
    second = member_client.get(reverse("orders:list"), {"page": 2})

    assert first.status_code == 200
    assert len(first.context["page_obj"]) == 20
    assert len(second.context["page_obj"]) == 1
    assert first.context["page_obj"].paginator.count == 21
    assert 'href="?page=2"' in first.content.decode()


def test_order_pages_need_a_login(client):
    response = client.get(reverse("orders:list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_order_detail_shows_lines_totals_address_and_history(member_client, user):
    order = place_order(user=user, quantity=2, price=Decimal("15.00"))
    services.order_transition(order=order, to=Status.PAID)
    services.order_transition(order=order, to=Status.PROCESSING)
    services.order_transition(
        order=order, to=Status.SHIPPED, tracking_number="TRK-123", carrier="DHL"
    )

    response = member_client.get(reverse("orders:detail", args=[order.number]))

    html = response.content.decode()
    assert response.status_code == 200
    line = order.lines.get()
    assert line.product_name in html
    assert "€30.00" in html
    assert ADDRESS["line1"] in html
    assert "TRK-123" in html
    assert "DHL" in html
    for label in ("Awaiting payment", "Paid", "Processing", "Shipped"):
        assert f'class="timeline__status">{label}<' in html
    assert "Cancel order" not in html


def test_another_members_order_is_404(member_client):
    theirs = place_order(user=UserFactory())

    assert member_client.get(reverse("orders:detail", args=[theirs.number])).status_code == 404
    assert (
        member_client.get(reverse("orders:confirmation", args=[theirs.number])).status_code == 404
    )
    assert member_client.post(reverse("orders:cancel", args=[theirs.number])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.PENDING_PAYMENT


def test_cancel_an_unpaid_order_puts_the_stock_back(member_client, user):
    order = place_order(user=user, quantity=3, stock=5)
    line_variant = order.lines.get().variant
    assert ProductVariant.objects.get(pk=line_variant.pk).stock == 2

    page = member_client.get(reverse("orders:detail", args=[order.number]))
    assert "Cancel order" in page.content.decode()
    response = member_client.post(reverse("orders:cancel", args=[order.number]))

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert ProductVariant.objects.get(pk=line_variant.pk).stock == 5
    assert order.status_changes.last().changed_by == user
    shown = member_client.get(response.url)
    assert f"Order {order.number} is cancelled." in messages_of(shown)


def test_cancel_is_refused_for_a_paid_order(member_client, user):
    order = place_order(user=user, quantity=1, stock=5)
    services.order_transition(order=order, to=Status.PAID)

    response = member_client.post(reverse("orders:cancel", args=[order.number]))

    assert response.status_code == 400
    assert "can no longer be cancelled" in messages_of(response)[0]
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert ProductVariant.objects.get(pk=order.lines.get().variant_id).stock == 4
    assert member_client.get(reverse("orders:cancel", args=[order.number])).status_code == 405


# --- Guests -------------------------------------------------------------------------------------


def test_guest_link_verifies_then_keeps_showing_the_order(client):
    order = place_order(email="guest@example.com")
    url = reverse("orders:guest", args=[tokens.guest_token(order)])

    first = client.get(url)

    assert first.status_code == 200
    assert "Email confirmed" in messages_of(first)[0]
    order.refresh_from_db()
    assert order.email_verified_at is not None
    assert order.can_pay
    assert order.number in first.content.decode()

    again = client.get(url)
    assert again.status_code == 200
    assert messages_of(again) == []


def test_an_old_link_still_shows_a_verified_order_but_cannot_verify(client, settings):
    verified = place_order(email="a@example.com")
    services.order_guest_verify(token=tokens.guest_token(verified))
    unverified = place_order(email="b@example.com")
    old = {o: tokens.guest_token(o) for o in (verified, unverified)}

    settings.GUEST_VERIFY_HOURS = 0  # every link is now too old to verify with
    shown = client.get(reverse("orders:guest", args=[old[verified]]))
    refused = client.get(reverse("orders:guest", args=[old[unverified]]))

    assert shown.status_code == 200
    assert refused.status_code == 404
    unverified.refresh_from_db()
    assert unverified.email_verified_at is None


def test_a_bad_guest_token_is_a_friendly_404(client):
    order = place_order(email="guest@example.com")
    forged = signing.dumps({"order": order.pk, "email": order.email}, salt="something-else")

    for token in ("nonsense", forged, tokens.guest_token(order) + "x"):
        response = client.get(reverse("orders:guest", args=[token]))
        assert response.status_code == 404
        assert "This order link does not work" in response.content.decode()


# --- Query counts -------------------------------------------------------------------------------


def fill_cart(cart: Cart, lines: int) -> None:
    for _ in range(lines):
        product = ProductFactory()
        ProductImageFactory.create_batch(2, product=product)
        CartItemFactory(cart=cart, variant=variant(product=product), quantity=1)


# session, user, cart, its lines (+ variants and products), their images
MEMBER_CART_QUERIES = 5
# the same, then the shipping methods and the member's addresses
MEMBER_CHECKOUT_QUERIES = 7


@pytest.mark.parametrize("lines", [1, 10])
def test_cart_page_queries_do_not_grow_with_lines(
    member_client, user, django_assert_num_queries, lines
):
    fill_cart(CartFactory(user=user), lines)

    with django_assert_num_queries(MEMBER_CART_QUERIES):
        response = member_client.get(CART)

    assert len(response.context["rows"]) == lines


@pytest.mark.parametrize("lines", [1, 10])
def test_anonymous_cart_page_queries_do_not_grow_with_lines(
    client, django_assert_num_queries, lines
):
    cart = CartFactory()
    session = client.session
    session[services.CART_SESSION_KEY] = str(cart.token)
    session.save()
    fill_cart(cart, lines)

    # session, cart, lines, images
    with django_assert_num_queries(4):
        response = client.get(CART)

    assert len(response.context["rows"]) == lines


@pytest.mark.parametrize("lines", [1, 10])
def test_checkout_page_queries_do_not_grow_with_lines(
    member_client, user, django_assert_num_queries, lines
):
    fill_cart(CartFactory(user=user), lines)
    AddressFactory.create_batch(2, user=user)
    ShippingMethodFactory.create_batch(3)

    with django_assert_num_queries(MEMBER_CHECKOUT_QUERIES):
        response = member_client.get(CHECKOUT)

    assert response.status_code == 200
    assert len(response.context["rows"]) == lines


@pytest.mark.parametrize("lines", [1, 10])
def test_order_detail_queries_do_not_grow_with_lines(
    member_client, user, django_assert_num_queries, lines
):
    cart = CartFactory(user=user)
    fill_cart(cart, lines)
    order = services.order_place(
        cart=cart,
        email=user.email,
        user=user,
        shipping_address=ADDRESS,
        shipping_method=ShippingMethodFactory(),
    )
    services.order_transition(order=order, to=Status.PAID)

    # session, user, order, lines, status history, the payments, the header's cart count
    with django_assert_num_queries(7):
        response = member_client.get(reverse("orders:detail", args=[order.number]))

    assert len(response.context["order"].lines.all()) == lines


def test_order_expiry_is_shown_on_the_confirmation(member_client, user):
    order = place_order(user=user)
    Order.objects.filter(pk=order.pk).update(expires_at=order.created_at + timedelta(hours=1))

    html = member_client.get(reverse("orders:confirmation", args=[order.number])).content.decode()

    assert "We hold the items for you until" in html
