"""The payment and refund API with the manual provider: who may pay and see what, validation,
and amounts that only ever come from the order."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from orders import tokens
from orders.models import Order
from payments import services
from payments.models import Payment, Refund
from payments.tests.factories import place_order

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/payments/create-intent"
CONFIRM = "/api/v1/payments/confirm"


def error(response) -> dict:
    return response.json()["error"]


def test_a_member_starts_a_manual_payment_of_the_orders_amount(auth_client, user):
    order = place_order(user=user)

    response = auth_client.post(
        CREATE, {"order": order.number.lower(), "provider": "manual", "amount": "0.01"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["payment"]["amount"] == str(order.total)  # the client's amount is ignored
    assert body["payment"]["order"] == order.number
    assert (body["payment"]["status"], body["client_secret"], body["publishable_key"]) == (
        "pending",
        "",
        "",
    )
    assert "bank account" in body["instructions"]
    assert Payment.objects.get().amount == order.total


def test_nobody_pays_or_sees_another_shoppers_order_or_payment(auth_client, user):
    mine = place_order(user=user)
    theirs = place_order(user=UserFactory())
    their_payment, _ = services.payment_start(order=theirs, provider_code="manual")
    my_payment, _ = services.payment_start(order=mine, provider_code="manual")

    assert (
        auth_client.post(CREATE, {"order": theirs.number, "provider": "manual"}).status_code == 404
    )
    assert auth_client.get(f"/api/v1/payments/{their_payment.pk}").status_code == 404
    confirm = auth_client.post(
        CONFIRM, {"payment": their_payment.pk, "payment_method": "pm_card_visa"}
    )
    assert confirm.status_code == 404
    listed = auth_client.get("/api/v1/payments").json()
    assert [p["id"] for p in listed["results"]] == [my_payment.pk]
    assert auth_client.get(f"/api/v1/payments/{my_payment.pk}").status_code == 200


def test_anonymous_callers_must_sign_in_or_bring_the_guest_token(api_client):
    order = place_order()
    payment, _ = services.payment_start(order=order, provider_code="manual")

    anonymous = api_client.post(CREATE, {"order": order.number, "provider": "manual"})
    forged = api_client.post(CREATE, {"order": order.number, "access_token": "forged"})
    assert (anonymous.status_code, error(anonymous)["code"]) == (401, "not_authenticated")
    assert forged.status_code == 404

    token = tokens.guest_token(order)
    started = api_client.post(
        CREATE, {"order": order.number, "provider": "manual", "access_token": token}
    )
    seen = api_client.get(f"/api/v1/payments/{payment.pk}", {"access_token": token})
    other_order = place_order(email="someone@example.com")
    other_token = tokens.guest_token(other_order)
    not_theirs = api_client.get(f"/api/v1/payments/{payment.pk}", {"access_token": other_token})

    assert started.status_code == 201
    assert started.json()["payment"]["id"] == payment.pk  # the open attempt, reused
    assert seen.status_code == 200
    assert not_theirs.status_code == 404


def test_an_unverified_guest_cannot_pay_yet(api_client):
    order = place_order(verified=False)

    response = api_client.post(
        CREATE,
        {"order": order.number, "provider": "manual", "access_token": tokens.guest_token(order)},
    )

    assert (response.status_code, error(response)["code"]) == (409, "email_not_verified")


def test_bad_input_gets_field_messages(auth_client, user):
    order = place_order(user=user)

    missing = auth_client.post(CREATE, {"provider": "bitcoin"})
    unknown_provider = auth_client.post(CREATE, {"order": order.number, "provider": "stripe"})
    bad_method = auth_client.post(CONFIRM, {"payment": 1, "payment_method": "4242424242424242"})

    assert missing.status_code == 400
    assert set(error(missing)["fields"]) == {"order", "provider"}
    # No Stripe keys in this test: the card method is not on offer.
    assert (unknown_provider.status_code, error(unknown_provider)["code"]) == (
        400,
        "provider_unavailable",
    )
    assert error(bad_method)["fields"]["payment_method"] == [
        "Send a Stripe PaymentMethod id (it starts with pm_)."
    ]


def test_a_manual_payment_cannot_be_confirmed_with_a_card(auth_client, user):
    order = place_order(user=user)
    payment, _ = services.payment_start(order=order, provider_code="manual")

    response = auth_client.post(CONFIRM, {"payment": payment.pk, "payment_method": "pm_card_visa"})

    assert (response.status_code, error(response)["code"]) == (400, "confirm_not_supported")


# --- Refunds --------------------------------------------------------------------------------------


@pytest.fixture
def paid(user, staff) -> Order:
    order = place_order(user=user, quantity=2, price="15.00")
    services.order_pay_manually(order=order, user=staff)
    return order


def test_a_member_asks_for_a_refund_of_one_line(auth_client, paid):
    line = paid.lines.get()

    response = auth_client.post(
        f"/api/v1/orders/{paid.number}/refund-request",
        {"reason": "One pot was cracked", "lines": [{"line": line.pk, "quantity": 1}]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["amount"], body["origin"]) == ("requested", "15.00", "customer")
    assert body["lines"] == [{"line": line.pk, "product_name": line.product_name, "quantity": 1}]
    listed = auth_client.get("/api/v1/refunds").json()
    assert (listed["count"], listed["results"][0]["id"]) == (1, body["id"])


def test_refund_requests_are_validated(auth_client, user, paid):
    url = f"/api/v1/orders/{paid.number}/refund-request"
    other = place_order(user=UserFactory())

    no_reason = auth_client.post(url, {"lines": [{"line": "x", "quantity": 0}]})
    too_many = auth_client.post(
        url, {"reason": "r", "lines": [{"line": paid.lines.get().pk, "quantity": 9}]}
    )
    not_mine = auth_client.post(f"/api/v1/orders/{other.number}/refund-request", {"reason": "r"})
    unpaid = place_order(user=user)
    not_paid = auth_client.post(f"/api/v1/orders/{unpaid.number}/refund-request", {"reason": "r"})

    assert no_reason.status_code == 400
    assert set(error(no_reason)["fields"]) == {"reason", "lines"}
    assert (too_many.status_code, error(too_many)["code"]) == (400, "refund_invalid")
    assert error(too_many)["fields"]["lines"][0].startswith("Line 1: at most 2")
    assert not_mine.status_code == 404
    assert (not_paid.status_code, error(not_paid)["code"]) == (409, "order_not_refundable")
    assert not Refund.objects.exists()


def test_refunds_of_others_are_not_listed(auth_client, staff):
    someone = UserFactory()
    order = place_order(user=someone)
    services.order_pay_manually(order=order, user=staff)
    services.refund_request(order=order, user=someone, reason="r")

    assert auth_client.get("/api/v1/refunds").json()["count"] == 0
    assert APIClient().get("/api/v1/refunds").status_code == 401


def test_the_payment_shows_the_refunded_amount(auth_client, paid, staff):
    refund = services.refund_request(order=paid, user=paid.user, reason="r")
    services.refund_approve(refund=refund, user=staff)
    payment = Payment.objects.get(order=paid)

    body = auth_client.get(f"/api/v1/payments/{payment.pk}").json()

    assert (body["status"], Decimal(body["refunded_amount"])) == ("succeeded", paid.total)


def test_a_guest_asks_for_a_refund_with_the_access_token(api_client, staff):
    order = place_order()
    services.order_pay_manually(order=order, user=staff)
    token = tokens.guest_token(order)
    url = f"/api/v1/orders/{order.number}/refund-request"

    anonymous = api_client.post(url, {"reason": "Not as described"})
    requested = api_client.post(url, {"reason": "Not as described", "access_token": token})
    listed = api_client.get("/api/v1/refunds", {"access_token": token})

    assert anonymous.status_code == 401
    assert (requested.status_code, requested.json()["amount"]) == (201, str(order.total))
    assert [r["id"] for r in listed.json()["results"]] == [requested.json()["id"]]
