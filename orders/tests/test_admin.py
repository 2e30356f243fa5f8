"""The order screens of the admin, through Django's test client signed in as staff."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.models import Product, ProductVariant
from catalog.tests.factories import ProductFactory, VariantFactory
from orders import services
from orders.models import Cart, DiscountCode, Order, OrderStatusChange, ShippingMethod
from orders.tests.factories import (
    ADDRESS,
    CartFactory,
    CartItemFactory,
    DiscountCodeFactory,
    ShippingMethodFactory,
)

pytestmark = pytest.mark.django_db
Status = Order.Status

ORDERS = reverse("admin:orders_order_changelist")
DISCOUNTS = reverse("admin:orders_discountcode_changelist")
SHIPPING = reverse("admin:orders_shippingmethod_changelist")
CARTS = reverse("admin:orders_cart_changelist")


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def place(*, user=None, quantity: int = 1, skus: tuple[str, ...] = (), digital=False) -> Order:
    cart = services.cart_get_or_create(user=user) if user else CartFactory()
    product = ProductFactory(kind=Product.Kind.DIGITAL if digital else Product.Kind.PHYSICAL)
    for sku in skus or (None,):
        variant = VariantFactory(product=product, stock=10, **({"sku": sku} if sku else {}))
        CartItemFactory(cart=cart, variant=variant, quantity=quantity)
    return services.order_place(
        cart=cart,
        email=user.email if user else "guest@example.com",
        user=user,
        shipping_address=None if digital else ADDRESS,
        shipping_method=None if digital else ShippingMethodFactory(),
    )


def advanced(order: Order, *steps: str) -> Order:
    for step in steps:
        services.order_transition(
            order=order, to=step, tracking_number="T-1" if step == Status.SHIPPED else ""
        )
    return order


def act(client, action: str, orders, **data):
    return client.post(
        ORDERS,
        {"action": action, "_selected_action": [o.pk for o in orders], **data},
        follow=True,
    )


def statuses(*orders) -> list[str]:
    found = dict(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("pk", "status"))
    return [found[o.pk] for o in orders]


# --- Every screen opens -------------------------------------------------------------------------


def test_every_order_screen_opens_for_staff(staff_client, user):
    order = place(user=user, skus=("CASE-IP16",))
    guest_order = advanced(place(), Status.PAID)
    discount = DiscountCodeFactory()
    method = ShippingMethod.objects.first()
    cart = Cart.objects.get(user=user)
    CartItemFactory(cart=cart)
    urls = [
        ORDERS,
        ORDERS + "?payment=paid",
        ORDERS + "?payment=unpaid&customer=guest",
        ORDERS + "?customer=member&status__exact=pending_payment",
        ORDERS + f"?created_at__year={order.created_at.year}",
        ORDERS + "?created_at__gte=2000-01-01+00:00:00%2B00:00",
        ORDERS + f"?q={order.number}",
        ORDERS + "?q=case-ip16",
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:orders_order_change", args=[guest_order.pk]),
        DISCOUNTS,
        DISCOUNTS + "?is_active__exact=1&kind__exact=percent",
        reverse("admin:orders_discountcode_add"),
        reverse("admin:orders_discountcode_change", args=[discount.pk]),
        SHIPPING,
        reverse("admin:orders_shippingmethod_add"),
        reverse("admin:orders_shippingmethod_change", args=[method.pk]),
        CARTS,
        CARTS + f"?q={user.email}",
        reverse("admin:orders_cart_change", args=[cart.pk]),
    ]

    for url in urls:
        assert staff_client.get(url).status_code == 200, url


def test_orders_cannot_be_added_or_deleted_in_the_admin(staff_client):
    order = place()

    assert staff_client.get(reverse("admin:orders_order_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()
    choices = staff_client.get(ORDERS).context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _label in choices]


def test_shoppers_are_sent_to_the_admin_login(client, user):
    client.force_login(user)

    response = client.get(ORDERS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- Order list ---------------------------------------------------------------------------------


def test_order_list_costs_the_same_queries_for_3_or_30_orders(
    staff_client, user, django_assert_num_queries
):
    def add_orders(n):
        for i in range(n):
            order = place(user=user if i % 2 else None, skus=(f"{n}-{i}-A", f"{n}-{i}-B"))
            advanced(order, *([Status.PAID] if i % 3 else []))

    add_orders(3)
    few = count_queries(staff_client, ORDERS)
    add_orders(27)
    many = count_queries(staff_client, ORDERS)

    # Session, user, the two counts (page and total), the page, and the date hierarchy's
    # range and days.
    assert few == many == 7
    with django_assert_num_queries(7):
        response = staff_client.get(ORDERS + "?payment=unpaid&customer=guest&q=-A")
    unpaid_guests = Order.objects.filter(user=None, paid_at=None)
    assert response.context["cl"].result_count == unpaid_guests.count() > 0


def test_order_list_shows_totals_as_money(staff_client):
    order = place()

    response = staff_client.get(ORDERS)

    admin = response.context["cl"].model_admin
    assert admin.total_amount(order) == f"€{order.total:,.2f}"
    assert f"€{order.total:,.2f}".encode() in response.content


def test_search_by_sku_lists_an_order_once(staff_client):
    order = place(skus=("CASE-IP15", "CASE-IP16"))
    place(skus=("POT-1",))

    response = staff_client.get(ORDERS + "?q=CASE-IP")

    assert [o.pk for o in response.context["cl"].result_list] == [order.pk]
    assert response.context["cl"].result_count == 1


def test_payment_and_customer_filters(staff_client, user):
    unpaid_guest = place()
    paid_guest = advanced(place(), Status.PAID)
    paid_member = advanced(place(user=user), Status.PAID)

    def listed(query):
        return {o.pk for o in staff_client.get(ORDERS + query).context["cl"].result_list}

    assert listed("?payment=paid") == {paid_guest.pk, paid_member.pk}
    assert listed("?payment=unpaid") == {unpaid_guest.pk}
    assert listed("?customer=guest") == {unpaid_guest.pk, paid_guest.pk}
    assert listed("?customer=member") == {paid_member.pk}


# --- The order page is a record -----------------------------------------------------------------


def test_order_page_shows_lines_and_history_but_saves_nothing(staff_client):
    order = advanced(place(skus=("MAPLE-S",), quantity=2), Status.PAID)
    url = reverse("admin:orders_order_change", args=[order.pk])

    response = staff_client.get(url)

    assert response.status_code == 200
    assert b"MAPLE-S" in response.content
    # Then the payments app's inlines: payments and refunds.
    lines, history, *_payments = response.context["inline_admin_formsets"]
    assert not lines.has_add_permission
    assert not lines.has_delete_permission
    assert not lines.has_change_permission
    assert [f.form.instance.to_status for f in history] == ["pending_payment", "paid"]
    assert 'name="total"' not in response.content.decode()
    # Buttons for the moves the status allows, which post to the list's actions.
    assert [name for name, _label in response.context["status_actions"]] == [
        "mark_processing",
        "mark_delivered",
        "cancel_orders",
    ]
    assert b'value="mark_processing"' in response.content

    total = order.total
    response = staff_client.post(
        url, {"total": "0.01", "subtotal": "0.01", "status": Status.DELIVERED, "email": "x@y.z"}
    )

    assert response.status_code == 403
    order.refresh_from_db()
    assert (order.total, order.status, order.email) == (total, Status.PAID, "guest@example.com")


def test_order_page_costs_the_same_queries_for_2_or_12_lines(staff_client):
    def queries_for(lines: int) -> int:
        order = place(skus=tuple(f"L{lines}-{i}" for i in range(lines)))
        advanced(order, Status.PAID, Status.PROCESSING)
        return count_queries(staff_client, reverse("admin:orders_order_change", args=[order.pk]))

    assert queries_for(2) == queries_for(12)


# --- Status actions -----------------------------------------------------------------------------


def test_mark_as_processing_moves_paid_orders_and_reports_the_others(staff_client, staff):
    first, second = advanced(place(), Status.PAID), advanced(place(), Status.PAID)
    unpaid = place()

    response = act(staff_client, "mark_processing", [first, second, unpaid])

    assert response.status_code == 200
    assert statuses(first, second, unpaid) == [
        Status.PROCESSING,
        Status.PROCESSING,
        Status.PENDING_PAYMENT,
    ]
    assert texts(response) == [
        f"2 orders marked as processing, 1 could not: {unpaid.number} is Awaiting payment."
    ]
    history = OrderStatusChange.objects.filter(to_status=Status.PROCESSING)
    assert sorted(history.values_list("order", "from_status", "changed_by")) == [
        (first.pk, Status.PAID, staff.pk),
        (second.pk, Status.PAID, staff.pk),
    ]


def test_mark_as_delivered_skips_an_order_delivered_already(staff_client):
    shipped = [advanced(place(), Status.PAID, Status.PROCESSING, Status.SHIPPED) for _ in "ab"]
    delivered = advanced(place(), Status.PAID, Status.PROCESSING, Status.SHIPPED, Status.DELIVERED)

    response = act(staff_client, "mark_delivered", [*shipped, delivered])

    assert statuses(*shipped, delivered) == [Status.DELIVERED] * 3
    assert texts(response) == [
        f"2 orders marked as delivered, 1 could not: {delivered.number} is Delivered."
    ]
    assert OrderStatusChange.objects.filter(to_status=Status.DELIVERED).count() == 3


def test_a_paid_parcel_cannot_be_delivered_before_it_is_shipped(staff_client):
    paid_parcel = advanced(place(), Status.PAID)
    paid_download = advanced(place(digital=True), Status.PAID)

    response = act(staff_client, "mark_delivered", [paid_parcel, paid_download])

    assert statuses(paid_parcel, paid_download) == [Status.PAID, Status.DELIVERED]
    assert texts(response) == [
        f"1 order marked as delivered, 1 could not: {paid_parcel.number}: "
        "Goods must be shipped before they are delivered."
    ]


def test_a_finished_order_page_has_no_status_buttons(staff_client):
    order = advanced(place(), Status.CANCELLED)

    response = staff_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert response.context["status_actions"] == []
    assert b'name="action"' not in response.content


def test_an_action_started_on_the_order_page_returns_there(staff_client):
    order = advanced(place(), Status.PAID)
    page = reverse("admin:orders_order_change", args=[order.pk])

    response = staff_client.post(
        ORDERS,
        {"action": "mark_processing", "_selected_action": [order.pk], "_from_order_page": order.pk},
    )

    assert response.status_code == 302
    assert response["Location"] == page
    assert statuses(order) == [Status.PROCESSING]


# --- Shipping -----------------------------------------------------------------------------------


def test_mark_as_shipped_asks_for_each_parcels_tracking_number(staff_client, staff):
    first = advanced(place(), Status.PAID, Status.PROCESSING)
    second = advanced(place(), Status.PAID, Status.PROCESSING)
    not_ready = advanced(place(), Status.PAID)

    page = staff_client.post(
        ORDERS, {"action": "mark_shipped", "_selected_action": [first.pk, second.pk, not_ready.pk]}
    )

    assert page.status_code == 200
    assert [form.order.pk for form in page.context["forms"]] == [first.pk, second.pk]
    assert page.context["skipped"] == [f"{not_ready.number} is Paid"]
    assert statuses(first, second) == [Status.PROCESSING] * 2

    response = act(
        staff_client,
        "mark_shipped",
        [first, second, not_ready],
        apply="1",
        **{
            f"ship-{first.pk}-tracking_number": " JJD01 ",
            f"ship-{first.pk}-carrier": "DHL",
            f"ship-{second.pk}-tracking_number": "1Z999",
            f"ship-{second.pk}-carrier": "UPS",
        },
    )

    assert texts(response) == [
        f"2 orders marked as shipped, 1 could not: {not_ready.number} is Paid."
    ]
    shipped = Order.objects.filter(status=Status.SHIPPED).order_by("created_at", "pk")
    assert list(shipped.values_list("pk", "tracking_number", "carrier")) == [
        (first.pk, "JJD01", "DHL"),
        (second.pk, "1Z999", "UPS"),
    ]
    assert all(order.shipped_at for order in shipped)
    history = OrderStatusChange.objects.filter(to_status=Status.SHIPPED)
    assert set(history.values_list("order", "changed_by")) == {
        (first.pk, staff.pk),
        (second.pk, staff.pk),
    }


def test_a_missing_tracking_number_shows_the_page_again_and_ships_nothing(staff_client):
    first = advanced(place(), Status.PAID, Status.PROCESSING)
    second = advanced(place(), Status.PAID, Status.PROCESSING)

    response = act(
        staff_client,
        "mark_shipped",
        [first, second],
        apply="1",
        **{f"ship-{first.pk}-tracking_number": "JJD01", f"ship-{second.pk}-tracking_number": " "},
    )

    assert response.status_code == 200
    forms = response.context["forms"]
    assert forms[1].errors == {"tracking_number": ["This field is required."]}
    assert statuses(first, second) == [Status.PROCESSING] * 2
    assert texts(response) == []


def test_shipping_only_unshippable_orders_says_why_without_a_page(staff_client):
    download = advanced(place(digital=True), Status.PAID)
    unpaid = place()

    response = act(staff_client, "mark_shipped", [download, unpaid])

    assert response.redirect_chain == [(ORDERS, 302)]
    assert texts(response) == [
        f"0 orders marked as shipped, 2 could not: {download.number} has nothing to ship; "
        f"{unpaid.number} is Awaiting payment."
    ]
    assert statuses(download, unpaid) == [Status.PAID, Status.PENDING_PAYMENT]


# --- Cancelling ---------------------------------------------------------------------------------


def test_cancel_asks_first_then_cancels_returns_stock_and_records_why(staff_client, staff):
    unpaid = place(quantity=3)
    paid = advanced(place(quantity=2), Status.PAID)
    shipped = advanced(place(), Status.PAID, Status.PROCESSING, Status.SHIPPED)
    variant_ids = [o.lines.get().variant_id for o in (unpaid, paid)]

    page = staff_client.post(
        ORDERS,
        {"action": "cancel_orders", "_selected_action": [unpaid.pk, paid.pk, shipped.pk]},
    )

    assert page.status_code == 200
    assert page.context["skipped"] == [f"{shipped.number} is Shipped"]
    assert [o.pk for o in page.context["paid"]] == [paid.pk]
    assert b"Yes, cancel" in page.content
    assert statuses(unpaid, paid, shipped) == [Status.PENDING_PAYMENT, Status.PAID, Status.SHIPPED]

    response = act(
        staff_client, "cancel_orders", [unpaid, paid, shipped], apply="1", note="Out of stock"
    )

    assert statuses(unpaid, paid, shipped) == [Status.CANCELLED, Status.CANCELLED, Status.SHIPPED]
    assert texts(response) == [f"2 orders cancelled, 1 could not: {shipped.number} is Shipped."]
    assert set(
        ProductVariant.objects.filter(pk__in=variant_ids).values_list("stock", flat=True)
    ) == {10}
    history = OrderStatusChange.objects.filter(to_status=Status.CANCELLED)
    assert sorted(history.values_list("order", "note", "changed_by")) == [
        (unpaid.pk, "Cancelled by staff: Out of stock", staff.pk),
        (paid.pk, "Cancelled by staff: Out of stock", staff.pk),
    ]


def test_cancelling_twice_returns_stock_once(staff_client):
    order = place(quantity=4)
    variant = order.lines.get().variant

    act(staff_client, "cancel_orders", [order], apply="1")
    response = act(staff_client, "cancel_orders", [order], apply="1")

    variant.refresh_from_db()
    assert variant.stock == 10
    assert texts(response) == [f"0 orders cancelled, 1 could not: {order.number} is Cancelled."]


# --- Discount codes, shipping methods, carts ----------------------------------------------------


def discount_data(**fields) -> dict:
    return {
        "code": "SPRING",
        "kind": DiscountCode.Kind.PERCENT,
        "value": "10",
        "min_subtotal": "0",
        "is_active": "on",
        **fields,
    }


def test_discount_codes_are_stored_in_capitals_and_times_used_is_not_editable(staff_client):
    response = staff_client.post(
        reverse("admin:orders_discountcode_add"),
        discount_data(code=" spring 10 ", times_used="50"),
    )

    assert response.status_code == 302, response.context["errors"]
    code = DiscountCode.objects.get()
    assert (code.code, code.times_used) == ("SPRING10", 0)


def test_a_code_differing_only_in_case_is_refused(staff_client):
    DiscountCodeFactory(code="SPRING10")

    response = staff_client.post(
        reverse("admin:orders_discountcode_add"), discount_data(code="spring10")
    )

    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors
    assert DiscountCode.objects.count() == 1


def test_discount_form_refuses_an_end_before_the_start_and_over_100_percent(staff_client):
    response = staff_client.post(
        reverse("admin:orders_discountcode_add"),
        discount_data(
            value="120",
            starts_at_0="2030-05-02",
            starts_at_1="10:00",
            ends_at_0="2030-05-01",
            ends_at_1="10:00",
        ),
    )

    errors = response.context["adminform"].form.errors
    assert errors["value"] == ["A percentage cannot be more than 100."]
    assert errors["ends_at"] == ["The code must end after it starts."]
    assert not DiscountCode.objects.exists()


def test_discount_list_shows_usage_against_the_limit(staff_client):
    DiscountCodeFactory(code="LIMITED", usage_limit=100, times_used=3)
    DiscountCodeFactory(code="OPEN", times_used=7)

    response = staff_client.get(DISCOUNTS)

    admin = response.context["cl"].model_admin
    shown = {d.code: admin.usage(d) for d in response.context["cl"].result_list}
    assert shown == {"LIMITED": "3 of 100", "OPEN": "7"}


def test_shipping_fees_are_edited_in_the_list(staff_client):
    method = ShippingMethodFactory(fee=Decimal("4.90"), free_above=Decimal("100.00"))
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(method.pk),
        "form-0-fee": "5.50",
        "form-0-free_above": "",
        "form-0-position": "3",
        "_save": "Save",
    }

    response = staff_client.post(SHIPPING, data)

    assert response.status_code == 302
    method.refresh_from_db()
    assert (method.fee, method.free_above, method.is_active, method.position) == (
        Decimal("5.50"),
        None,
        False,
        3,
    )


def test_cart_list_counts_items_without_a_query_per_cart(staff_client, user):
    def add_carts(n):
        for _ in range(n):
            CartItemFactory(cart=CartFactory(user=UserFactory()), quantity=2)

    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, quantity=3)
    CartItemFactory(cart=cart, quantity=1)
    CartFactory()  # empty and anonymous
    add_carts(1)
    few = count_queries(staff_client, CARTS)
    add_carts(27)
    many = count_queries(staff_client, CARTS)

    assert few == many
    rows = {c.pk: c for c in staff_client.get(CARTS).context["cl"].result_list}
    assert (rows[cart.pk].lines_total, rows[cart.pk].items_total) == (2, 4)
    assert len(rows) == 30


def test_carts_are_read_only(staff_client):
    cart = CartFactory()
    CartItemFactory(cart=cart, quantity=2)

    response = staff_client.post(
        reverse("admin:orders_cart_change", args=[cart.pk]), {"user": "", "items-0-quantity": "9"}
    )

    assert response.status_code == 403
    assert staff_client.get(reverse("admin:orders_cart_add")).status_code == 403
    assert Cart.objects.get().items.get().quantity == 2
