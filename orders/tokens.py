"""Guest access to an order: a signed link (verify, then view later) and a short code for apps."""

import hashlib
import hmac

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare

SALT = "orders.guest"


def verify_max_age() -> int:
    return settings.GUEST_VERIFY_HOURS * 3600


def guest_token(order) -> str:
    """A link token for the guest's order. Verifying needs a fresh one (`verify_max_age`);
    viewing the order with it works for as long as the order exists."""
    return signing.dumps({"order": order.pk, "email": order.email}, salt=SALT)


def guest_token_check(token: str, *, max_age: int | None = None) -> int | None:
    """The order id a token was made for, or None when it is forged or too old."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("order"), int):
        return None
    from orders.models import Order

    if not Order.objects.filter(pk=data["order"], email=data.get("email")).exists():
        return None
    return data["order"]


def guest_code(order) -> str:
    """Six digits tied to the order and its email, for apps where a link is awkward."""
    message = f"{order.pk}:{order.email}:{order.created_at.isoformat()}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"{int(digest[:12], 16) % 1_000_000:06d}"


def guest_code_check(order, code: str) -> bool:
    if timezone.now() - order.created_at > timezone.timedelta(seconds=verify_max_age()):
        return False
    return constant_time_compare(guest_code(order), (code or "").strip())
