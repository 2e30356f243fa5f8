"""Every write to accounts: users, their addresses, verification and password resets."""

import uuid

from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from accounts import jwt, tasks
from accounts.exceptions import EmailTaken, InvalidCredentials, InvalidToken
from accounts.models import Address, User
from accounts.signals import user_deleted
from accounts.tokens import email_verification_user

USER_EDITABLE_FIELDS = ("email", "full_name", "phone")
ADDRESS_FIELDS = (
    "recipient",
    "phone",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "is_default",
)


def normalize_email(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


def _check_email_free(email: str, *, exclude_pk: int | None = None) -> None:
    taken = User.objects.filter(email=email).exclude(pk=exclude_pk).exists()
    if taken:
        raise EmailTaken(
            "An account with this email address already exists.",
            fields={"email": ["An account with this email address already exists."]},
        )


def _check_password(password: str, user: User, *, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def user_register(*, email: str, password: str, full_name: str = "", phone: str = "") -> User:
    """Create a shopper account and send the email verification link.

    Raises `EmailTaken` when the address is in use (also when another request registers it in the
    same instant) and `ValidationError` for a weak password.
    """
    email = normalize_email(email)
    _check_email_free(email)
    user = User(email=email, full_name=full_name.strip(), phone=phone.strip())
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # Lost a race with another registration of the same address.
        raise EmailTaken(
            "An account with this email address already exists.",
            fields={"email": ["An account with this email address already exists."]},
        ) from exc
    email_verification_send(user=user)
    return user


@transaction.atomic
def user_update(*, user: User, data: dict) -> User:
    """Change profile fields. A new email address must be verified again."""
    changed = []
    for field in USER_EDITABLE_FIELDS:
        if field not in data:
            continue
        value = data[field].strip()
        if field == "email":
            value = normalize_email(value)
            if value == user.email:
                continue
            _check_email_free(value, exclude_pk=user.pk)
            user.is_verified = False
            changed.append("is_verified")
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.full_clean(exclude=["password"], validate_constraints=False)
        try:
            with transaction.atomic():
                user.save(update_fields=changed)
        except IntegrityError as exc:
            raise EmailTaken(
                "An account with this email address already exists.",
                fields={"email": ["An account with this email address already exists."]},
            ) from exc
        if "email" in changed:
            email_verification_send(user=user)
    return user


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """Check credentials for an API sign-in and record it as a login.

    Raises `InvalidCredentials`. django-axes counts the failures and, past the limit, refuses
    (its middleware answers 429) before the password is even checked.
    """
    user = authenticate(request, username=normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentials("Email or password is not correct.")
    user_logged_in.send(sender=User, request=request, user=user)
    return user


def user_change_password(*, user: User, new_password: str) -> None:
    """Set a new password and sign out every app that holds a refresh token."""
    _check_password(new_password, user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        jwt.user_tokens_revoke(user=user)


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Close an account: personal data is erased, the row stays so that orders keep their owner.

    The email becomes a placeholder so the address can register again; addresses are deleted,
    the password is made unusable and every refresh token is revoked.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    user.email = f"deleted-{uuid.uuid4().hex}@deleted.invalid"
    user.full_name = ""
    user.phone = ""
    user.is_active = False
    user.is_verified = False
    user.is_staff = False
    user.is_superuser = False
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save(
        update_fields=[
            "email",
            "full_name",
            "phone",
            "is_active",
            "is_verified",
            "is_staff",
            "is_superuser",
            "deleted_at",
            "password",
        ]
    )
    user.addresses.all().delete()
    jwt.user_tokens_revoke(user=user)
    transaction.on_commit(lambda: user_deleted.send(sender=User, user=user))


def email_verification_send(*, user: User) -> None:
    """Email a verification link, after the surrounding transaction commits."""
    user_id = user.pk
    # robust: a broker outage is logged; it must not turn a saved registration into an error.
    transaction.on_commit(lambda: tasks.send_verification_email.delay(user_id), robust=True)


def email_verify(*, token: str) -> User:
    """Mark the address in a verification token as verified. Raises `InvalidToken`."""
    user = email_verification_user(token)
    if not user.is_verified:
        user.is_verified = True
        user.save(update_fields=["is_verified"])
    return user


def password_reset_request(*, email: str) -> None:
    """Email a reset link if an active account has this address; say nothing either way."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None and user.has_usable_password():
        user_id = user.pk
        transaction.on_commit(lambda: tasks.send_password_reset_email.delay(user_id), robust=True)


def password_reset_user(*, uidb64: str, token: str) -> User:
    """The user a reset link was made for. Raises `InvalidToken` if it is wrong, used or expired."""
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidToken(
            "This password reset link is not valid or has expired. Ask for a new one.",
            fields={"token": ["Invalid or expired token."]},
        )
    return user


def password_reset_confirm(*, uidb64: str, token: str, new_password: str) -> User:
    user = password_reset_user(uidb64=uidb64, token=token)
    user_change_password(user=user, new_password=new_password)
    return user


@transaction.atomic
def address_save(*, user: User, data: dict, address: Address | None = None) -> Address:
    """Create an address (no `address`) or update one. One default per user: setting a new
    default clears the old one; a user's first address becomes the default."""
    address = address or Address(user=user)
    for field in ADDRESS_FIELDS:
        if field in data:
            setattr(address, field, data[field])
    has_other_default = (
        Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).exists()
    )
    if address.pk is None and not has_other_default:
        address.is_default = True
    if address.is_default and has_other_default:
        Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(
            is_default=False
        )
    address.full_clean(exclude=["user"])
    address.save()
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    """Delete an address; if it was the default, the newest remaining one takes its place."""
    user_id, was_default = address.user_id, address.is_default
    address.delete()
    if was_default:
        newest = Address.objects.filter(user_id=user_id).order_by("-created_at", "-pk").first()
        if newest is not None:
            newest.is_default = True
            newest.save(update_fields=["is_default"])
