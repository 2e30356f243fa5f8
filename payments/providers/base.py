"""What every payment provider does. Providers talk to the gateway; they never touch orders:
the payment services turn what they report into payment and order changes."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Started:
    """A payment attempt as the provider opened it."""

    reference: str = ""  # the provider's id for the attempt
    client_secret: str = ""  # what a client needs to finish paying (Stripe's client secret)
    status: str = ""  # the provider's status word, when it has one
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """Where an attempt stands at the provider, in the store's words (Payment.Status values)."""

    status: str
    amount_received: Decimal | None = None
    currency: str = ""
    failure_code: str = ""
    failure_message: str = ""


class Provider(ABC):
    code: str
    label: str
    # True when the shopper pays in the browser or app (cards); False when staff confirm that
    # the money arrived (bank transfer, pay on pickup).
    pays_online: bool = True

    @abstractmethod
    def is_configured(self) -> bool:
        """Whether the shop has what this provider needs (keys...)."""

    @abstractmethod
    def start(self, payment, *, idempotency_key: str) -> Started:
        """Open the attempt at the gateway for `payment.amount` in `payment.currency`."""

    def resume(self, payment) -> Started:
        """The client data of an attempt opened earlier (asked again by a client)."""
        return Started(reference=payment.reference)

    def confirm(self, payment, *, payment_method: str) -> Outcome:
        """Confirm the attempt server-side with a payment method; providers that cannot say so."""
        from payments.exceptions import PaymentError

        raise PaymentError(
            f"{self.label} payments are not confirmed this way.", code="confirm_not_supported"
        )

    def fetch(self, payment) -> Outcome | None:
        """Ask the gateway where the attempt stands now (None: only staff know)."""
        return None

    @abstractmethod
    def refund(self, payment, *, amount: Decimal, idempotency_key: str, refund_id: int) -> str:
        """Give `amount` back; returns the provider's refund id ("" when recorded only)."""

    def client_config(self) -> dict:
        """Public settings a client needs (Stripe's publishable key)."""
        return {}
