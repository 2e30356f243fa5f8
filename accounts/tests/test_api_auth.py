"""The auth endpoints: register, login, refresh, logout, email verification, password reset."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import jwt, tasks
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTER = reverse("api:auth-register")
LOGIN = reverse("api:auth-login")
REFRESH = reverse("api:auth-refresh")
LOGOUT = reverse("api:auth-logout")
VERIFY = reverse("api:auth-verify-email")
RESET = reverse("api:auth-password-reset")
RESET_CONFIRM = reverse("api:auth-password-reset-confirm")
ME = reverse("api:users-me")


def assert_error(response, status: int, code: str, fields: tuple[str, ...] = ()) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    for field in fields:
        assert error["fields"][field], error
    return error


def login(client, email: str, password: str, **extra):
    return client.post(LOGIN, {"email": email, "password": password, **extra}, format="json")


# --- register --------------------------------------------------------------------------------
def test_register_creates_unverified_user_returns_tokens_and_emails_link(api_client, emails_sent):
    with emails_sent():
        response = api_client.post(
            REGISTER,
            {
                "email": "New.Buyer@Example.com",
                "password": "Bonsai-Lover-77",
                "full_name": "Ana Li",
            },
        )

    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "new.buyer@example.com"
    assert body["user"]["is_verified"] is False
    assert AccessToken(body["access"])["user_id"] == str(body["user"]["id"])
    user = User.objects.get(email="new.buyer@example.com")
    assert user.full_name == "Ana Li"
    assert user.check_password("Bonsai-Lover-77")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.buyer@example.com"]
    assert "/accounts/verify/" in mail.outbox[0].body


def test_register_validation_errors_name_the_fields(api_client):
    response = api_client.post(REGISTER, {"email": "not-an-email", "password": ""})

    assert_error(response, 400, "invalid", fields=("email", "password"))
    assert User.objects.count() == 0


def test_register_weak_password_is_refused(api_client):
    response = api_client.post(REGISTER, {"email": "a@example.com", "password": "12345678"})

    error = assert_error(response, 400, "invalid", fields=("password",))
    assert any("common" in message for message in error["fields"]["password"])
    assert not User.objects.filter(email="a@example.com").exists()


def test_register_taken_email_any_case_is_refused(api_client):
    UserFactory(email="taken@example.com")

    response = api_client.post(
        REGISTER, {"email": "TAKEN@example.com", "password": "Fine-Pass-981"}
    )

    assert_error(response, 400, "email_taken", fields=("email",))
    assert User.objects.filter(email="taken@example.com").count() == 1


# --- login -----------------------------------------------------------------------------------
def test_login_returns_tokens_and_user(api_client, user, password):
    response = login(api_client, user.email.upper(), password)

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == user.email
    assert AccessToken(body["access"])["user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.last_login is not None


def test_login_wrong_password_is_401(api_client, user):
    assert_error(login(api_client, user.email, "wrong-password"), 401, "invalid_credentials")


def test_login_unknown_email_is_401_like_a_wrong_password(api_client):
    assert_error(login(api_client, "nobody@example.com", "whatever-1"), 401, "invalid_credentials")


def test_login_closed_account_is_401(api_client, password):
    closed = UserFactory(raw_password=password, is_active=False)

    assert_error(login(api_client, closed.email, password), 401, "invalid_credentials")


def test_login_missing_fields_is_400(api_client):
    assert_error(api_client.post(LOGIN, {}), 400, "invalid", fields=("email", "password"))


@override_settings(JWT_REMEMBER_ME_REFRESH_LIFETIME=timedelta(days=30))
def test_remember_me_chooses_the_long_refresh_lifetime(api_client, user, password):
    short = RefreshToken(login(api_client, user.email, password).json()["refresh"])
    long = RefreshToken(login(api_client, user.email, password, remember_me=True).json()["refresh"])

    assert short["exp"] - short["iat"] == int(timedelta(days=1).total_seconds())
    assert long["exp"] - long["iat"] == int(timedelta(days=30).total_seconds())


def test_lockout_after_repeated_failed_logins_even_with_the_right_password(
    api_client, user, password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(api_client, user.email, "wrong").status_code == 401

    locked = login(api_client, user.email, "wrong")
    assert_error(locked, 429, "locked_out")
    assert int(locked["Retry-After"]) > 0

    still_locked = login(api_client, user.email, password)
    assert_error(still_locked, 429, "locked_out")
    assert "reset your password" in still_locked.json()["error"]["message"]


def test_lockout_is_per_account_so_others_still_sign_in(api_client, user, password, settings):
    other = UserFactory(raw_password=password)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(api_client, user.email, "wrong")

    assert login(api_client, other.email, password).status_code == 200


# --- refresh ---------------------------------------------------------------------------------
def test_refresh_rotates_and_the_old_token_is_refused(api_client, user, password):
    first = login(api_client, user.email, password).json()["refresh"]

    rotated = api_client.post(REFRESH, {"refresh": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh"]
    assert second != first
    assert AccessToken(rotated.json()["access"])["user_id"] == str(user.pk)

    assert_error(api_client.post(REFRESH, {"refresh": first}), 401, "token_not_valid")
    assert api_client.post(REFRESH, {"refresh": second}).status_code == 200


def test_refresh_keeps_remember_me_across_rotation(api_client, user, password):
    first = login(api_client, user.email, password, remember_me=True).json()["refresh"]

    second = RefreshToken(api_client.post(REFRESH, {"refresh": first}).json()["refresh"])

    assert second["remember"] is True
    assert second["exp"] - second["iat"] == int(timedelta(days=30).total_seconds())


def test_refresh_with_an_expired_token_is_401(api_client, user):
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))

    assert_error(api_client.post(REFRESH, {"refresh": str(token)}), 401, "token_not_valid")


def test_refresh_with_garbage_is_401(api_client):
    assert_error(api_client.post(REFRESH, {"refresh": "not.a.jwt"}), 401, "token_not_valid")


def test_refresh_for_a_closed_account_is_401(api_client, user, password):
    refresh = login(api_client, user.email, password).json()["refresh"]
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_error(api_client.post(REFRESH, {"refresh": refresh}), 401, "token_not_valid")


def test_an_access_token_is_not_a_refresh_token(api_client, user, password):
    access = login(api_client, user.email, password).json()["access"]

    assert_error(api_client.post(REFRESH, {"refresh": access}), 401, "token_not_valid")


# --- logout ----------------------------------------------------------------------------------
def test_logout_blacklists_the_refresh_token(api_client, user, password):
    refresh = login(api_client, user.email, password).json()["refresh"]

    assert api_client.post(LOGOUT, {"refresh": refresh}).status_code == 204

    assert_error(api_client.post(REFRESH, {"refresh": refresh}), 401, "token_not_valid")
    assert_error(api_client.post(LOGOUT, {"refresh": refresh}), 401, "token_not_valid")


def test_logout_needs_a_token(api_client):
    assert_error(api_client.post(LOGOUT, {}), 400, "invalid", fields=("refresh",))


# --- email verification ----------------------------------------------------------------------
def _token_from_mail(message) -> str:
    return re.search(r"/accounts/verify/([^/\s]+)/", message.body).group(1)


def test_verify_email_with_the_emailed_token(api_client, emails_sent):
    with emails_sent():
        api_client.post(REGISTER, {"email": "v@example.com", "password": "Bonsai-Lover-77"})
    token = _token_from_mail(mail.outbox[-1])

    response = api_client.post(VERIFY, {"token": token})

    assert response.status_code == 200
    assert response.json()["is_verified"] is True
    assert User.objects.get(email="v@example.com").is_verified


def test_verify_email_with_a_tampered_token_is_400(api_client, emails_sent):
    with emails_sent():
        api_client.post(REGISTER, {"email": "v@example.com", "password": "Bonsai-Lover-77"})
    token = _token_from_mail(mail.outbox[-1])

    assert_error(api_client.post(VERIFY, {"token": token + "x"}), 400, "invalid_token")
    assert not User.objects.get(email="v@example.com").is_verified


def test_verify_email_with_an_expired_token_is_400(api_client, emails_sent, settings):
    with emails_sent():
        api_client.post(REGISTER, {"email": "v@example.com", "password": "Bonsai-Lover-77"})
    token = _token_from_mail(mail.outbox[-1])
    settings.EMAIL_VERIFICATION_TIMEOUT = -1

    error = assert_error(api_client.post(VERIFY, {"token": token}), 400, "invalid_token")
    assert "expired" in error["message"]


def test_resend_verification_needs_sign_in_and_sends_a_new_link(
    api_client, emails_sent, auth_client, user
):
    assert_error(api_client.post(reverse("api:auth-verify-email-resend")), 401, "not_authenticated")
    User.objects.filter(pk=user.pk).update(is_verified=False)

    with emails_sent():
        response = auth_client.post(reverse("api:auth-verify-email-resend"))
    assert response.status_code == 202
    assert len(mail.outbox) == 1


# --- password reset --------------------------------------------------------------------------
def _reset_parts(message) -> tuple[str, str]:
    uid, token = re.search(r"/accounts/password-reset/([^/]+)/([^/\s]+)/", message.body).groups()
    return uid, token


def test_password_reset_round_trip_revokes_old_tokens(api_client, emails_sent, user, password):
    old_refresh = login(api_client, user.email, password).json()["refresh"]

    with emails_sent():
        assert api_client.post(RESET, {"email": user.email}).status_code == 202
    assert len(mail.outbox) == 1
    uid, token = _reset_parts(mail.outbox[0])

    response = api_client.post(
        RESET_CONFIRM, {"uid": uid, "token": token, "new_password": "Brand-New-Pass-55"}
    )

    assert response.status_code == 204
    assert login(api_client, user.email, "Brand-New-Pass-55").status_code == 200
    assert login(api_client, user.email, password).status_code == 401
    assert_error(api_client.post(REFRESH, {"refresh": old_refresh}), 401, "token_not_valid")
    # The link is single-use: the password changed, so the token no longer matches.
    reused = api_client.post(
        RESET_CONFIRM, {"uid": uid, "token": token, "new_password": "Another-Pass-66"}
    )
    assert_error(reused, 400, "invalid_token", fields=("token",))


def test_password_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(
    api_client, emails_sent
):
    with emails_sent():
        assert api_client.post(RESET, {"email": "nobody@example.com"}).status_code == 202
    assert mail.outbox == []


def test_password_reset_confirm_weak_password_is_400(api_client, emails_sent, user):
    with emails_sent():
        api_client.post(RESET, {"email": user.email})
    uid, token = _reset_parts(mail.outbox[0])

    response = api_client.post(RESET_CONFIRM, {"uid": uid, "token": token, "new_password": "123"})

    assert_error(response, 400, "invalid", fields=("new_password",))


def test_password_reset_confirm_bad_uid_is_400(api_client):
    response = api_client.post(
        RESET_CONFIRM, {"uid": "!!", "token": "x-y", "new_password": "Brand-New-Pass-55"}
    )
    assert_error(response, 400, "invalid_token")


# --- throttling ------------------------------------------------------------------------------
def test_auth_endpoints_are_throttled_per_client(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "5/min", "general": "100/min", "uploads": "10/min"},
    }
    for _ in range(5):
        assert api_client.post(RESET, {"email": "x@example.com"}).status_code == 202

    throttled = api_client.post(RESET, {"email": "x@example.com"})

    assert_error(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0


def test_general_throttle_counts_per_user(auth_client, api_client, settings, password):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "5/min", "general": "3/min", "uploads": "10/min"},
    }
    for _ in range(3):
        assert auth_client.get(ME).status_code == 200
    assert_error(auth_client.get(ME), 429, "throttled")

    other = UserFactory(raw_password=password)
    api_client.force_authenticate(other)
    assert api_client.get(ME).status_code == 200


def test_expired_refresh_tokens_are_flushed_daily(user):
    jwt.tokens_for_user(user=user)
    OutstandingToken.objects.update(expires_at="2000-01-01T00:00:00Z")
    jwt.tokens_for_user(user=user)

    tasks.flush_expired_tokens.delay()

    assert OutstandingToken.objects.count() == 1
