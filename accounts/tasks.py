"""Account emails, sent in the background. Tasks take ids and read fresh rows."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.tokens import email_verification_token
from config.emails import send_templated_email

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def send_verification_email(user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True, is_verified=False).first()
    if user is None:
        return  # Verified or closed in the meantime: nothing to send.
    token = email_verification_token(user)
    send_templated_email(
        to=[user.email],
        template="verify_email",
        context={
            "user": user,
            "token": token,
            "verify_url": settings.SITE_URL + reverse("accounts:verify-email", args=[token]),
            "valid_hours": settings.EMAIL_VERIFICATION_TIMEOUT // 3600,
        },
    )


@shared_task(**RETRY)
def send_password_reset_email(user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    send_templated_email(
        to=[user.email],
        template="password_reset",
        context={
            "user": user,
            "uid": uid,
            "token": token,
            "reset_url": settings.SITE_URL
            + reverse("accounts:password-reset-confirm", args=[uid, token]),
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )


@shared_task
def flush_expired_tokens() -> None:
    """Daily: forget refresh tokens past their expiry (and their blacklist entries)."""
    call_command("flushexpiredtokens")
