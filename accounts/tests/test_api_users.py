"""The signed-in user's profile, password and address book."""

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import jwt
from accounts.models import Address, User
from accounts.tests.factories import AddressFactory, UserFactory
from accounts.tests.test_api_auth import LOGIN, REFRESH, assert_error

pytestmark = pytest.mark.django_db

ME = reverse("api:users-me")
PASSWORD = reverse("api:users-me-password")
ADDRESSES = reverse("api:address-list")


def address_url(pk: int) -> str:
    return reverse("api:address-detail", args=[pk])


VALID_ADDRESS = {
    "recipient": "Kenji Sato",
    "phone": "+81 3 1234 5678",
    "line1": "1-2-3 Ginza",
    "city": "Tokyo",
    "postal_code": "104-0061",
    "country": "JP",
}


# --- users/me --------------------------------------------------------------------------------
def test_me_needs_authentication(api_client):
    assert_error(api_client.get(ME), 401, "not_authenticated")


def test_me_with_an_invalid_access_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    error = assert_error(api_client.get(ME), 401, "token_not_valid")
    assert error["message"] == "Given token not valid for any token type"


def test_me_returns_the_profile_in_one_query(auth_client, user, django_assert_num_queries):
    with django_assert_num_queries(1):  # the user row; the token needs no lookup
        response = auth_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "phone": "",
        "is_verified": True,
        "is_staff": False,
        "date_joined": response.json()["date_joined"],
    }


def test_me_works_with_a_session_too(user):
    client = APIClient()
    client.force_login(user)

    assert client.get(ME).json()["email"] == user.email


def test_patch_me_changes_name_and_phone(auth_client, user):
    response = auth_client.patch(ME, {"full_name": "Mika Tanaka", "phone": "+81 90 1234 5678"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("Mika Tanaka", "+81 90 1234 5678")
    assert user.is_verified


def test_patch_me_new_email_must_be_verified_again(auth_client, user, emails_sent):
    with emails_sent():
        response = auth_client.patch(ME, {"email": "New@Example.com"})

    assert response.status_code == 200
    assert response.json()["email"] == "new@example.com"
    assert response.json()["is_verified"] is False
    assert mail.outbox[-1].to == ["new@example.com"]


def test_patch_me_validation_errors(auth_client, user):
    response = auth_client.patch(ME, {"email": "nope", "phone": "call me maybe"})

    assert_error(response, 400, "invalid", fields=("email", "phone"))
    user.refresh_from_db()
    assert "@" in user.email
    assert user.phone == ""


def test_patch_me_with_another_users_email_is_refused(auth_client, user):
    other = UserFactory()

    assert_error(auth_client.patch(ME, {"email": other.email}), 400, "email_taken", ("email",))
    user.refresh_from_db()
    assert user.email != other.email


def test_delete_me_erases_personal_data_and_signs_out(auth_client, user, password):
    AddressFactory(user=user)
    refresh = jwt.tokens_for_user(user=user)["refresh"]
    email = user.email

    response = auth_client.delete(ME, {"password": password})

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.email.endswith("@deleted.invalid")
    assert (user.full_name, user.phone, user.is_active) == ("", "", False)
    assert not user.has_usable_password()
    assert user.deleted_at is not None
    assert not Address.objects.filter(user=user).exists()
    anonymous = APIClient()
    assert_error(anonymous.post(REFRESH, {"refresh": refresh}), 401, "token_not_valid")
    assert_error(
        anonymous.post(LOGIN, {"email": email, "password": password}), 401, "invalid_credentials"
    )
    # The address is free again.
    assert UserFactory(email=email).pk != user.pk


def test_delete_me_needs_the_password(auth_client, user):
    assert_error(auth_client.delete(ME, {"password": "wrong"}), 400, "invalid", ("password",))
    assert User.objects.get(pk=user.pk).is_active


# --- password change -------------------------------------------------------------------------
def test_password_change_revokes_old_tokens_and_returns_new_ones(auth_client, user, password):
    old = jwt.tokens_for_user(user=user)

    response = auth_client.post(
        PASSWORD, {"old_password": password, "new_password": "Fresh-Bonsai-88"}
    )

    assert response.status_code == 200
    anonymous = APIClient()
    assert_error(anonymous.post(REFRESH, {"refresh": old["refresh"]}), 401, "token_not_valid")
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {old['access']}")
    assert anonymous.get(ME).status_code == 401
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert anonymous.get(ME).status_code == 200


def test_password_change_errors(auth_client):
    response = auth_client.post(PASSWORD, {"old_password": "wrong", "new_password": "short"})

    assert_error(response, 400, "invalid", fields=("old_password", "new_password"))


# --- addresses -------------------------------------------------------------------------------
def test_create_address_first_one_becomes_default(auth_client, user):
    response = auth_client.post(ADDRESSES, VALID_ADDRESS)

    assert response.status_code == 201, response.content
    assert response.json()["is_default"] is True
    assert response.json()["country"] == "JP"
    assert Address.objects.get(user=user).city == "Tokyo"


def test_create_address_validation_errors(auth_client, user):
    response = auth_client.post(ADDRESSES, {**VALID_ADDRESS, "country": "XX", "line1": ""})

    assert_error(response, 400, "invalid", fields=("country", "line1"))
    assert not Address.objects.filter(user=user).exists()


def test_new_default_address_replaces_the_old_default(auth_client, user):
    first = AddressFactory(user=user, is_default=True)

    response = auth_client.post(ADDRESSES, {**VALID_ADDRESS, "is_default": True})

    assert response.status_code == 201
    first.refresh_from_db()
    assert not first.is_default
    assert Address.objects.filter(user=user, is_default=True).count() == 1


def test_list_addresses_is_paginated_and_only_mine(auth_client, user, django_assert_num_queries):
    AddressFactory.create_batch(3, user=user)
    AddressFactory.create_batch(2)  # someone else's

    with django_assert_num_queries(3):  # user, count, page
        response = auth_client.get(ADDRESSES)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 3
    assert {"next", "previous"} <= body.keys()


def test_list_addresses_query_count_does_not_grow(auth_client, user, django_assert_num_queries):
    AddressFactory.create_batch(30, user=user)

    with django_assert_num_queries(3):
        response = auth_client.get(ADDRESSES, {"page_size": 30})

    assert len(response.json()["results"]) == 30


def test_update_and_delete_my_address(auth_client, user):
    default = AddressFactory(user=user, is_default=True)
    other = AddressFactory(user=user)

    patched = auth_client.patch(address_url(other.pk), {"city": "Kyoto"})
    assert patched.status_code == 200
    assert patched.json()["city"] == "Kyoto"

    assert auth_client.delete(address_url(default.pk)).status_code == 204
    other.refresh_from_db()
    assert other.is_default  # the remaining address took over as default


def test_another_users_address_is_404(auth_client):
    theirs = AddressFactory()

    assert_error(auth_client.get(address_url(theirs.pk)), 404, "not_found")
    assert_error(auth_client.patch(address_url(theirs.pk), {"city": "X"}), 404, "not_found")
    assert_error(auth_client.delete(address_url(theirs.pk)), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.city != "X"


def test_addresses_need_authentication(api_client):
    assert_error(api_client.get(ADDRESSES), 401, "not_authenticated")
