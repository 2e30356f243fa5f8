"""The periodic expiry of unpaid orders and the email task (Celery runs tasks eagerly in tests)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from catalog.models import ProductVariant, StockMovement
from orders import services
from orders.models import Order, OrderStatusChange
from orders.tasks import expire_unpaid_orders, send_order_email
from orders.tests.factories import ADDRESS, CartFactory, CartItemFactory, ShippingMethodFactory

pytestmark = pytest.mark.django_db
Status = Order.Status


def place(*, quantity: int = 1, stock: int = 5) -> Order:
    cart = CartFactory()
    CartItemFactory(cart=cart, quantity=quantity, variant__stock=stock)
    return services.order_place(
        cart=cart,
        email="guest@example.com",
        shipping_address=ADDRESS,
        shipping_method=ShippingMethodFactory(),
    )


def overdue(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    return order


def test_the_task_cancels_overdue_unpaid_orders_and_returns_their_stock_once():
    late = overdue(place(quantity=3, stock=3))
    on_time = place(quantity=2, stock=2)
    paid = place()
    services.order_transition(order=paid, to=Status.PAID)
    overdue(paid)
    variant_of = {o.pk: o.lines.get().variant_id for o in (late, on_time, paid)}

    assert expire_unpaid_orders.delay().get() == 1
    assert expire_unpaid_orders.delay().get() == 0

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {
        late.pk: Status.CANCELLED,
        on_time.pk: Status.PENDING_PAYMENT,
        paid.pk: Status.PAID,
    }
    stock = dict(ProductVariant.objects.values_list("pk", "stock"))
    assert stock[variant_of[late.pk]] == 3  # all of it back on the shelf
    assert stock[variant_of[on_time.pk]] == 0  # still held
    released = StockMovement.objects.filter(reference=f"order:{late.number}", delta__gt=0)
    assert list(released.values_list("delta", "reason")) == [(3, "order_released")]
    history = OrderStatusChange.objects.filter(order=late, to_status=Status.CANCELLED)
    assert list(history.values_list("from_status", "note", "changed_by")) == [
        (Status.PENDING_PAYMENT, "Not paid in time", None)
    ]


def test_an_order_expiring_sends_one_cancelled_email(emails_sent):
    late = overdue(place())

    with emails_sent():
        expire_unpaid_orders.delay()
        expire_unpaid_orders.delay()

    assert [m.subject for m in mail.outbox] == [
        f"{settings.STORE_NAME}: order {late.number} is cancelled"
    ]


def test_the_email_task_sends_the_named_email():
    order = place()

    send_order_email.delay(order.pk, "received")

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["guest@example.com"]
    assert order.number in mail.outbox[0].subject


def test_beat_runs_the_expiry_every_few_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["expire-unpaid-orders"]

    assert entry["task"] == expire_unpaid_orders.name == "orders.tasks.expire_unpaid_orders"
    # Stock of abandoned orders must not stay held for long: a run at least every 15 minutes.
    schedule = entry["schedule"]
    minutes = sorted(schedule.minute)
    gaps = [b - a for a, b in zip(minutes, [*minutes[1:], minutes[0] + 60], strict=True)]
    assert max(gaps) <= 15
    assert schedule.hour == set(range(24))
    assert schedule.day_of_week == set(range(7))
