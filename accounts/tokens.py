"""Signed, expiring links for email verification (password reset uses Django's own generator)."""

from django.conf import settings
from django.core import signing

from accounts.exceptions import InvalidToken
from accounts.models import User

_SALT = "accounts.email-verification"


def email_verification_token(user: User) -> str:
    """A token naming the user and the address being verified; a later email change voids it."""
    return signing.dumps({"u": user.pk, "e": user.email}, salt=_SALT, compress=True)


def email_verification_user(token: str) -> User:
    """The user a verification token was made for, if it is authentic, fresh and still current."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT)
    except signing.SignatureExpired as exc:
        raise InvalidToken(
            "This verification link has expired. Ask for a new one from your account page."
        ) from exc
    except signing.BadSignature as exc:
        raise InvalidToken("This verification link is not valid.") from exc
    user = User.objects.filter(pk=payload.get("u"), email=payload.get("e"), is_active=True).first()
    if user is None:
        raise InvalidToken("This verification link is for an address that is no longer in use.")
    return user
