"""Catch up with Stripe when webhooks did not arrive (an outage, a wrong secret): Stripe retries
a webhook for three days only, so a periodic task asks for recent events itself."""

import logging
from datetime import timedelta

import stripe
from django.conf import settings
from django.utils import timezone
from djstripe.models import Event
from djstripe.settings import djstripe_settings

from payments import providers, services
from payments.models import Payment
from payments.webhooks import EVENTS

logger = logging.getLogger(__name__)


def stripe_reconcile(*, now=None) -> dict:
    """Process the recent events of the kinds the store handles that dj-stripe has not seen,
    through the same path as a webhook; then ask Stripe directly about card payments still
    open on orders awaiting payment. Returns counts for the log."""
    if not providers.REGISTRY["stripe"].is_configured():
        return {"events": 0, "payments": 0}
    now = now or timezone.now()
    since = int((now - timedelta(hours=settings.STRIPE_RECONCILE_HOURS)).timestamp())
    api_key = djstripe_settings.STRIPE_SECRET_KEY
    processed = 0
    events = stripe.Event.list(created={"gte": since}, limit=100, api_key=api_key)
    for data in events.auto_paging_iter():
        if data["type"] not in EVENTS or Event.objects.filter(id=data["id"]).exists():
            continue
        Event.process(data=data, api_key=api_key)
        processed += 1
    synced = 0
    open_payments = Payment.objects.filter(
        provider=Payment.Provider.STRIPE,
        status__in=[*services.OPEN, Payment.Status.PROCESSING],
        order__status="pending_payment",
        created_at__gte=now - timedelta(hours=settings.STRIPE_RECONCILE_HOURS),
    ).exclude(reference="")
    for payment in open_payments:
        services.payment_refresh(payment=payment)
        synced += 1
    logger.info("stripe_reconciled", extra={"events": processed, "payments": synced})
    return {"events": processed, "payments": synced}
