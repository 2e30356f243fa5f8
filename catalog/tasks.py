"""Catalogue jobs run in the background."""

from celery import shared_task
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from catalog import selectors
from config.emails import send_templated_email

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}
# The email stays readable; the admin link lists every low variant.
DIGEST_MAX_ROWS = 200


def low_stock_recipients() -> list[str]:
    """settings.LOW_STOCK_EMAILS, or when it is empty every active staff member with an email."""
    if settings.LOW_STOCK_EMAILS:
        return list(settings.LOW_STOCK_EMAILS)
    return list(
        User.objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )


@shared_task(**RETRY)
def send_low_stock_digest() -> int:
    """Daily: one email listing the variants at or below their low-stock threshold.

    Sends nothing when no variant is low (or nobody would receive it). Returns how many variants
    were listed.
    """
    low = selectors.low_stock_variants()
    variants = list(low[: DIGEST_MAX_ROWS + 1])
    if not variants:
        return 0
    count = len(variants) if len(variants) <= DIGEST_MAX_ROWS else low.count()
    recipients = low_stock_recipients()
    if not recipients:
        return 0
    send_templated_email(
        to=recipients,
        template="low_stock_digest",
        context={
            "variants": variants[:DIGEST_MAX_ROWS],
            "count": count,
            "more": count - min(count, DIGEST_MAX_ROWS),
            "admin_url": settings.SITE_URL
            + reverse("admin:catalog_productvariant_changelist")
            + "?stock=low",
        },
    )
    return count
