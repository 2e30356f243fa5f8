"""Payment providers behind one small interface; `enabled()` lists those the shop offers.

A new gateway (Mercado Pago, TossPayments...) is one module with a `Provider` subclass, a
`Payment.Provider` choice, and an entry in REGISTRY; services and pages need no change.
"""

from django.conf import settings

from payments.exceptions import ProviderUnavailable
from payments.providers.base import Provider, Started
from payments.providers.manual import ManualProvider
from payments.providers.stripe import StripeProvider

REGISTRY: dict[str, Provider] = {
    provider.code: provider for provider in (StripeProvider(), ManualProvider())
}

__all__ = ["Provider", "Started", "enabled", "get"]


def enabled() -> list[Provider]:
    """The providers listed in PAYMENT_PROVIDERS that are configured, in that order."""
    found = (REGISTRY.get(code) for code in settings.PAYMENT_PROVIDERS)
    return [provider for provider in found if provider is not None and provider.is_configured()]


def get(code: str) -> Provider:
    """An enabled provider by code; ProviderUnavailable (400) names the ones on offer."""
    for provider in enabled():
        if provider.code == code:
            return provider
    offered = ", ".join(p.code for p in enabled()) or "none"
    raise ProviderUnavailable(
        f"“{code}” is not a payment method this shop offers.",
        fields={"provider": [f"Choose one of: {offered}."]},
    )
