"""Manual payments: the shopper pays outside the store (bank transfer, at pickup) and staff
confirm in the admin that the money arrived."""

from django.conf import settings

from payments.providers.base import Provider, Started


class ManualProvider(Provider):
    code = "manual"
    label = "Bank transfer or pay on pickup"
    pays_online = False

    def is_configured(self) -> bool:
        return True

    def start(self, payment, *, idempotency_key: str) -> Started:
        return Started(extra={"instructions": settings.MANUAL_PAYMENT_INSTRUCTIONS})

    def resume(self, payment) -> Started:
        return self.start(payment, idempotency_key="")

    def refund(self, payment, *, amount, idempotency_key: str, refund_id: int) -> str:
        return ""  # staff pay it back by hand; the store records it

    def client_config(self) -> dict:
        return {"instructions": settings.MANUAL_PAYMENT_INSTRUCTIONS}
