"""The account pages, through Django's test client."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Address, User
from accounts.tests.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_register_page_creates_account_signs_in_and_emails_link(client, emails_sent):
    with emails_sent():
        response = client.post(
            reverse("accounts:register"),
            {
                "email": "Page@Example.com",
                "full_name": "Page Person",
                "password": "Bonsai-Lover-77",
                "password_confirm": "Bonsai-Lover-77",
            },
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    user = User.objects.get(email="page@example.com")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert len(mail.outbox) == 1
    assert mail.outbox[0].alternatives  # an HTML part beside the text


def test_register_page_shows_errors_inline(client):
    UserFactory(email="taken@example.com")

    response = client.post(
        reverse("accounts:register"),
        {"email": "taken@example.com", "password": "a", "password_confirm": "b"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert "password_confirm" in form.errors
    assert User.objects.filter(email="taken@example.com").count() == 1


def test_register_page_refuses_a_taken_email(client):
    UserFactory(email="taken@example.com")

    response = client.post(
        reverse("accounts:register"),
        {
            "email": "TAKEN@example.com",
            "password": "Bonsai-Lover-77",
            "password_confirm": "Bonsai-Lover-77",
        },
    )

    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["email"][0]


def test_verification_link_verifies(client, emails_sent):
    with emails_sent():
        client.post(
            reverse("accounts:register"),
            {
                "email": "v@example.com",
                "password": "Bonsai-Lover-77",
                "password_confirm": "Bonsai-Lover-77",
            },
        )
    link = re.search(r"http://\S+/accounts/verify/\S+/", mail.outbox[0].body).group(0)

    response = client.get(link.replace("http://127.0.0.1:8000", ""))

    assert response.status_code == 302
    assert User.objects.get(email="v@example.com").is_verified


def test_a_broken_verification_link_says_so(client):
    response = client.get(reverse("accounts:verify-email", args=["nonsense"]))

    assert response.status_code == 400
    assert b"not valid" in response.content


def test_login_with_remember_me_keeps_the_session(client, user, password):
    response = client.post(
        reverse("accounts:login"),
        {"username": user.email, "password": password, "remember_me": "on"},
    )

    assert response.status_code == 302
    assert not client.session.get_expire_at_browser_close()


def test_login_without_remember_me_ends_with_the_browser(client, user, password):
    client.post(reverse("accounts:login"), {"username": user.email, "password": password})

    assert client.session.get_expire_at_browser_close()


def test_login_page_locks_out_after_repeated_failures(client, user, password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(
            reverse("accounts:login"), {"username": user.email, "password": "wrong"}
        )
        assert response.status_code == 200

    locked = client.post(reverse("accounts:login"), {"username": user.email, "password": "wrong"})
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content

    right = client.post(reverse("accounts:login"), {"username": user.email, "password": password})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_profile_needs_sign_in(client):
    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_profile_update(client, user):
    client.force_login(user)

    response = client.post(
        reverse("accounts:profile"),
        {"full_name": "New Name", "email": user.email, "phone": "+1 555 0100"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("New Name", "+1 555 0100")


def test_profile_update_with_a_taken_email_shows_the_error(client, user):
    other = UserFactory()
    client.force_login(user)

    response = client.post(
        reverse("accounts:profile"), {"full_name": "X", "email": other.email, "phone": ""}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    user.refresh_from_db()
    assert user.email != other.email


def test_password_change_page_keeps_this_session(client, user, password):
    client.force_login(user)

    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": password,
            "new_password1": "Fresh-Bonsai-88",
            "new_password2": "Fresh-Bonsai-88",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Fresh-Bonsai-88")
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_password_reset_pages_round_trip(client, user, emails_sent):
    with emails_sent():
        response = client.post(reverse("accounts:password-reset"), {"email": user.email})
    assert response.status_code == 302
    link = re.search(r"http://\S+/accounts/password-reset/\S+/\S+/", mail.outbox[0].body).group(0)
    path = link.replace("http://127.0.0.1:8000", "")

    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Reset-Bonsai-99", "new_password2": "Reset-Bonsai-99"},
    )

    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Reset-Bonsai-99")


def test_address_book_pages(client, user):
    client.force_login(user)
    data = {
        "recipient": "Kenji Sato",
        "line1": "1-2-3 Ginza",
        "city": "Tokyo",
        "postal_code": "104-0061",
        "country": "JP",
    }

    assert client.post(reverse("accounts:address-create"), data).status_code == 302
    address = Address.objects.get(user=user)
    assert address.is_default

    listing = client.get(reverse("accounts:addresses"))
    assert b"Kenji Sato" in listing.content

    edit = client.post(
        reverse("accounts:address-edit", args=[address.pk]), {**data, "city": "Kyoto"}
    )
    assert edit.status_code == 302
    address.refresh_from_db()
    assert address.city == "Kyoto"

    assert client.post(reverse("accounts:address-delete", args=[address.pk])).status_code == 302
    assert not Address.objects.filter(pk=address.pk).exists()


def test_address_form_errors_are_shown(client, user):
    client.force_login(user)

    response = client.post(reverse("accounts:address-create"), {"recipient": "X"})

    assert response.status_code == 200
    assert {"line1", "city", "postal_code", "country"} <= response.context["form"].errors.keys()


def test_another_users_address_pages_are_404(client, user):
    theirs = AddressFactory()
    client.force_login(user)

    assert client.get(reverse("accounts:address-edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("accounts:address-delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("accounts:address-default", args=[theirs.pk])).status_code == 404
    assert Address.objects.filter(pk=theirs.pk).exists()


def test_make_default_address_page(client, user):
    first = AddressFactory(user=user, is_default=True)
    second = AddressFactory(user=user)
    client.force_login(user)

    client.post(reverse("accounts:address-default", args=[second.pk]))

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


def test_close_account_page(client, user, password):
    client.force_login(user)

    wrong = client.post(reverse("accounts:delete"), {"password": "wrong"})
    assert wrong.status_code == 200
    assert User.objects.get(pk=user.pk).is_active

    response = client.post(reverse("accounts:delete"), {"password": password})

    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert user.email.endswith("@deleted.invalid")
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(client, user):
    client.force_login(user)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
