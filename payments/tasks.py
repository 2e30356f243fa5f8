"""Thin Celery tasks: they take ids and call services (or send one email)."""

from celery import shared_task

from payments.exceptions import GatewayError


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_payment_email(payment_id: int, kind: str) -> None:
    from payments import emails

    emails.payment_email_send(payment_id=payment_id, kind=kind)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_refund_email(refund_id: int, kind: str) -> None:
    from payments import emails

    emails.refund_email_send(refund_id=refund_id, kind=kind)


@shared_task(autoretry_for=(GatewayError, OSError), retry_backoff=True, max_retries=8)
def refund_payment_automatically(payment_id: int) -> None:
    from payments import services
    from payments.models import Payment

    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is not None:
        services.refund_payment_automatically(payment=payment)


@shared_task
def reconcile_stripe() -> dict:
    from payments import reconcile

    return reconcile.stripe_reconcile()
