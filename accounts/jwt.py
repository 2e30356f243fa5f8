"""JSON Web Tokens for the API: issue, rotate, revoke.

Refresh tokens rotate: each refresh returns a new pair and blacklists the token it used, so a
stolen token that is used after its owner refreshed is refused. "Remember me" is a claim in the
refresh token that keeps the long lifetime across rotations.
"""

from django.conf import settings
from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import User
from config.exceptions import ApplicationError

REMEMBER_CLAIM = "remember"


class TokenInvalid(ApplicationError):
    code = "token_not_valid"
    status_code = 401


def _refresh_lifetime(remember_me: bool):
    if remember_me:
        return settings.JWT_REMEMBER_ME_REFRESH_LIFETIME
    return api_settings.REFRESH_TOKEN_LIFETIME


def tokens_for_user(*, user: User, remember_me: bool = False) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)  # records it as outstanding, with the default lifetime
    refresh[REMEMBER_CLAIM] = remember_me
    refresh.set_exp(lifetime=_refresh_lifetime(remember_me))
    OutstandingToken.objects.filter(jti=refresh[api_settings.JTI_CLAIM]).update(
        token=str(refresh), expires_at=datetime_from_epoch(refresh["exp"])
    )
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # checks signature, expiry and the blacklist
    except TokenError as exc:
        raise TokenInvalid("The refresh token is invalid, expired or revoked.") from exc


def token_refresh(*, refresh: str) -> dict[str, str]:
    """Exchange a refresh token for a new access and refresh token; the old one is revoked.

    The outstanding-token row is locked so that two simultaneous refreshes with the same token
    cannot both succeed.
    """
    token = _parse_refresh(refresh)
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update()
            .filter(jti=token[api_settings.JTI_CLAIM])
            .order_by()  # the model orders by user: a join that FOR UPDATE may not lock
            .first()
        )
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            raise TokenInvalid("The refresh token is invalid, expired or revoked.")
        user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM), is_active=True).first()
        if user is None:
            raise TokenInvalid("The account of this token is closed or disabled.")
        BlacklistedToken.objects.create(token=outstanding)
        return tokens_for_user(user=user, remember_me=bool(token.get(REMEMBER_CLAIM, False)))


def token_revoke(*, refresh: str) -> None:
    """Sign out one client: its refresh token can no longer be used."""
    _parse_refresh(refresh).blacklist()


def user_tokens_revoke(*, user: User) -> None:
    """Sign out every client of a user (password change, account closed)."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
