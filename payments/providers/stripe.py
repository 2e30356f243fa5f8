"""Cards through Stripe: a PaymentIntent per attempt. Stripe's webhooks (received and stored by
dj-stripe) report the outcome; `payments.webhooks` turns them into payment changes."""

from decimal import Decimal

import stripe
from djstripe.settings import djstripe_settings

from catalog.money import quantize
from payments.exceptions import GatewayError, PaymentDeclined
from payments.providers.base import Outcome, Provider, Started

# Currencies Stripe counts in whole units (no cents): https://docs.stripe.com/currencies
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip


def to_minor(amount: Decimal, currency: str) -> int:
    """Stripe's integer amount: cents, or whole units for zero-decimal currencies."""
    factor = 1 if currency.lower() in ZERO_DECIMAL else 100
    return int((Decimal(amount) * factor).to_integral_value())


def from_minor(amount: int, currency: str) -> Decimal:
    factor = 1 if currency.lower() in ZERO_DECIMAL else 100
    return quantize(Decimal(amount) / factor)


def intent_outcome(intent) -> Outcome:
    """A PaymentIntent (a stripe object or an event's dict) in the store's words."""
    status = intent["status"]
    currency = str(intent["currency"]).upper()
    error = intent.get("last_payment_error") or {}
    if status == "succeeded":
        received = intent.get("amount_received") or intent["amount"]
        return Outcome("succeeded", from_minor(received, currency), currency)
    if status == "processing":
        return Outcome("processing", currency=currency)
    if status in ("requires_action", "requires_confirmation"):
        return Outcome("requires_action", currency=currency)
    if status == "canceled":
        return Outcome("cancelled", currency=currency)
    if error:
        return Outcome(
            "failed",
            currency=currency,
            failure_code=error.get("decline_code") or error.get("code") or "card_declined",
            failure_message=error.get("message") or "Your card was declined.",
        )
    return Outcome("pending", currency=currency)


def _api_key() -> str:
    return djstripe_settings.STRIPE_SECRET_KEY


class StripeProvider(Provider):
    code = "stripe"
    label = "Card"

    def is_configured(self) -> bool:
        return bool(djstripe_settings.STRIPE_SECRET_KEY and djstripe_settings.STRIPE_PUBLIC_KEY)

    def client_config(self) -> dict:
        return {"publishable_key": djstripe_settings.STRIPE_PUBLIC_KEY}

    def start(self, payment, *, idempotency_key: str) -> Started:
        order = payment.order
        intent = self._call(
            stripe.PaymentIntent.create,
            amount=to_minor(payment.amount, payment.currency),
            currency=payment.currency.lower(),
            payment_method_types=["card"],
            metadata={"order": order.number, "payment": str(payment.pk)},
            idempotency_key=idempotency_key,
        )
        return Started(intent["id"], intent["client_secret"], intent["status"])

    def resume(self, payment) -> Started:
        intent = self._call(stripe.PaymentIntent.retrieve, payment.reference)
        return Started(intent["id"], intent["client_secret"], intent["status"])

    def confirm(self, payment, *, payment_method: str) -> Outcome:
        # Attach the method first, then confirm: one call with both is not supported everywhere.
        self._call(stripe.PaymentIntent.modify, payment.reference, payment_method=payment_method)
        try:
            intent = stripe.PaymentIntent.confirm(payment.reference, api_key=_api_key())
        except stripe.CardError as exc:
            raise PaymentDeclined(
                exc.user_message or "Your card was declined.",
                fields={"payment_method": [exc.user_message or "Declined by the card's bank."]},
            ) from exc
        except stripe.StripeError as exc:
            raise GatewayError(_gateway_message(exc)) from exc
        return intent_outcome(intent)

    def fetch(self, payment) -> Outcome | None:
        if not payment.reference:
            return None
        return intent_outcome(self._call(stripe.PaymentIntent.retrieve, payment.reference))

    def refund(self, payment, *, amount: Decimal, idempotency_key: str, refund_id: int) -> str:
        refund = self._call(
            stripe.Refund.create,
            payment_intent=payment.reference,
            amount=to_minor(amount, payment.currency),
            metadata={"refund": str(refund_id), "order": payment.order.number},
            idempotency_key=idempotency_key,
        )
        return refund["id"]

    @staticmethod
    def _call(method, *args, **kwargs):
        try:
            return method(*args, api_key=_api_key(), **kwargs)
        except stripe.CardError as exc:
            raise PaymentDeclined(exc.user_message or "Your card was declined.") from exc
        except stripe.StripeError as exc:
            raise GatewayError(_gateway_message(exc)) from exc


def _gateway_message(exc: stripe.StripeError) -> str:
    detail = getattr(exc, "user_message", None) or "the card processor did not answer"
    return f"The payment could not be processed: {detail}. Nothing was charged; try again."
