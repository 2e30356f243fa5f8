"""The signed link of a guest's downloads page (in the paid email), and where each buyer finds
their downloads."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from orders.models import Order

SALT = "downloads.guest"


class LinkExpired(Exception):
    pass


def guest_token(order: Order) -> str:
    return signing.dumps({"order": order.pk, "email": order.email}, salt=SALT)


def guest_order(token: str) -> Order | None:
    """The guest order a downloads link names; None for a forged link. Raises LinkExpired for a
    genuine link older than GUEST_DOWNLOAD_LINK_DAYS."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.GUEST_DOWNLOAD_LINK_DAYS * 86400)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return Order.objects.filter(
        pk=data.get("order"), email=data.get("email"), user__isnull=True
    ).first()


def downloads_url(order: Order) -> str:
    """Where the buyer of `order` downloads: their account, or the guest's signed page."""
    if order.user_id is not None:
        return settings.SITE_URL + reverse("downloads:list")
    return settings.SITE_URL + reverse("downloads:guest", args=[guest_token(order)])
