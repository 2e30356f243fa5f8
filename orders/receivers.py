"""Orders' reactions to other apps' signals (connected in OrdersConfig.ready)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from orders import services


@receiver(user_logged_in, dispatch_uid="orders_merge_cart_on_login")
def merge_cart_on_login(sender, request, user, **kwargs) -> None:
    """A cart filled before signing in (pages: in the session; apps: `X-Session-ID`) joins the
    member's cart."""
    if request is None:
        return
    session = getattr(request, "session", None)
    token = (session.get(services.CART_SESSION_KEY) if session is not None else None) or (
        request.headers.get(services.CART_HEADER)
    )
    if token:
        services.cart_get_or_create(user=user, token=token)
        if session is not None:
            session.pop(services.CART_SESSION_KEY, None)
