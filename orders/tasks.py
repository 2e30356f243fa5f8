"""Thin Celery tasks: they take ids and call services (or send one email)."""

from celery import shared_task

KINDS = ("received", "verify", "paid", "shipped", "cancelled", "refunded")


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_order_email(order_id: int, kind: str) -> None:
    from orders import emails

    emails.order_email_send(order_id=order_id, kind=kind)


@shared_task
def expire_unpaid_orders() -> int:
    from orders import services

    return services.orders_expire_unpaid()


@shared_task
def delete_stale_carts() -> int:
    from orders import services

    return services.carts_delete_stale()
