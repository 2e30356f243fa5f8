"""Every write of payments and refunds.

Each change of a payment happens under its row lock and only moves forward (a payment that
succeeded never becomes pending or failed again), so a Stripe event delivered twice, late or
out of order ends in the same state. The order itself is only ever changed through
`orders.services` (`order_mark_paid`, `order_refund_record`, `order_flag`).

Lock order: order row (starting a payment), then payment row, then order row again inside the
order services, then variants (stock). Refunds lock the refund row, then the payment row.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from catalog import services as catalog_services
from catalog.models import StockMovement
from catalog.money import ZERO
from catalog.services import StockLine
from orders import services as order_services
from orders.models import PAID_STATUSES, Order, OrderLine
from orders.services import PaidOutcome
from payments import providers, tasks
from payments.exceptions import OrderNotPayable, PaymentDeclined, PaymentError, RefundError
from payments.models import Payment, Refund, RefundLine
from payments.providers.base import Outcome, Started

logger = logging.getLogger(__name__)

Status = Payment.Status
# Attempts a shopper may still finish (a failed card can be retried on the same intent).
OPEN = {Status.PENDING, Status.REQUIRES_ACTION, Status.FAILED}
# Where a payment may go from each status; anything else is an old or repeated report.
FORWARD = {
    Status.PENDING: {Status.PROCESSING, Status.REQUIRES_ACTION, Status.FAILED, Status.CANCELLED},
    Status.REQUIRES_ACTION: {Status.PROCESSING, Status.FAILED, Status.CANCELLED, Status.PENDING},
    Status.FAILED: {Status.PROCESSING, Status.REQUIRES_ACTION, Status.CANCELLED},
    Status.PROCESSING: {Status.FAILED, Status.CANCELLED},
    Status.SUCCEEDED: set(),
    Status.CANCELLED: set(),
}
REFUND_COUNTED = {Refund.Status.REQUESTED, Refund.Status.PROCESSING, Refund.Status.SUCCEEDED}


# --- Paying ---------------------------------------------------------------------------------------


def payment_start(*, order: Order, provider_code: str, user=None) -> tuple[Payment, Started]:
    """Open (or reopen) an attempt to pay `order` with a provider; amounts come from the order.

    An open attempt of the same provider for the same amount is reused, so a client that asks
    twice gets the same PaymentIntent (its creation also carries an idempotency key). Raises
    OrderNotPayable (409) for an order that is paid, cancelled, unverified, or has a payment
    being processed.
    """
    provider = providers.get(provider_code)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        _check_payable(locked)
        payment = (
            Payment.objects.filter(
                order=locked,
                provider=provider.code,
                status__in=OPEN,
                amount=locked.total,
                currency=locked.currency,
            )
            .order_by("-pk")
            .first()
        )
        if payment is None:
            payment = Payment.objects.create(
                order=locked,
                provider=provider.code,
                amount=locked.total,
                currency=locked.currency,
                created_by=user if user is not None and user.is_authenticated else None,
            )
        if not provider.pays_online:
            # A transfer takes days: hold the stock for as long as the shop waits for it.
            order_services.order_hold_until(
                order=locked, until=timezone.now() + timedelta(days=settings.MANUAL_PAYMENT_DAYS)
            )
    # The gateway is called outside the transaction: a slow answer holds no lock, and a retry
    # after a failure reuses this row and its idempotency key, so Stripe returns the same intent.
    if payment.reference:
        return payment, provider.resume(payment)
    started = provider.start(payment, idempotency_key=f"payment-{payment.pk}")
    if started.reference:
        Payment.objects.filter(pk=payment.pk, reference="").update(reference=started.reference)
        payment.reference = started.reference
    return payment, started


def _check_payable(order: Order) -> None:
    if order.status != Order.Status.PENDING_PAYMENT:
        raise OrderNotPayable(
            f"Order {order.number} is “{order.get_status_display()}”: it cannot be paid.",
            fields={"order": ["Only an order awaiting payment can be paid."]},
        )
    if not order.can_pay:
        raise OrderNotPayable(
            "Confirm your email address first: we sent you a code and a link.",
            code="email_not_verified",
            fields={"order": ["The order's email address is not confirmed yet."]},
        )
    if order.payments.filter(status=Status.PROCESSING).exists():
        raise OrderNotPayable(
            "A payment for this order is being processed: wait for its result.",
            code="payment_processing",
        )


def payment_confirm(*, payment: Payment, payment_method: str) -> Payment:
    """Confirm a card payment server-side with a payment method id (for apps that collect the
    card themselves). A declined card is recorded on the payment, the order stays payable, and
    PaymentDeclined (402) says why."""
    provider = providers.get(payment.provider)
    if payment.status not in OPEN:
        raise PaymentError(
            f"This payment is “{payment.get_status_display()}”: it cannot be confirmed.",
            code="payment_not_open",
        )
    _check_payable(payment.order)
    try:
        outcome = provider.confirm(payment, payment_method=payment_method)
    except PaymentDeclined as exc:
        payment_apply(
            payment=payment,
            outcome=Outcome(
                Status.FAILED,
                currency=payment.currency,
                failure_code=exc.code,
                failure_message=exc.message,
            ),
        )
        raise
    return payment_apply(payment=payment, outcome=outcome)


def payment_apply(*, payment: Payment, outcome: Outcome, event_id: str = "", user=None) -> Payment:
    """Bring a payment to where the provider says it stands (a webhook, a confirm, a sync)."""
    if outcome.status == Status.SUCCEEDED:
        return payment_succeeded(
            payment=payment,
            amount=outcome.amount_received,
            currency=outcome.currency,
            event_id=event_id,
            user=user,
        )
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        previous = locked.status
        if outcome.status not in FORWARD[previous]:
            return locked  # an old or repeated report: the payment has moved past it
        locked.status = outcome.status
        locked.failure_code = outcome.failure_code[:60]
        locked.failure_message = outcome.failure_message[:300]
        locked.last_event_id = event_id or locked.last_event_id
        locked.save(
            update_fields=[
                "status",
                "failure_code",
                "failure_message",
                "last_event_id",
                "updated_at",
            ]
        )
        if outcome.status == Status.FAILED:
            transaction.on_commit(
                lambda: tasks.send_payment_email.delay(locked.pk, "payment_failed"), robust=True
            )
    _copy(locked, payment)
    return locked


def payment_succeeded(
    *,
    payment: Payment,
    amount: Decimal | None = None,
    currency: str = "",
    event_id: str = "",
    user=None,
    note: str = "",
) -> Payment:
    """The money of a payment arrived: the one "order paid" path of every provider (a Stripe
    webhook, a server-side confirm, staff confirming a transfer).

    Idempotent: a payment that already succeeded is left alone. The amount and currency must
    match the order's, or the order is flagged for staff and not marked paid. A payment for an
    order that was paid by another payment, or cancelled and cannot be revived, is refunded
    automatically (and the order flagged), never silently kept.
    """
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("order").get(pk=payment.pk)
        if locked.status == Status.SUCCEEDED:
            _copy(locked, payment)
            return locked
        order = locked.order
        received = locked.amount if amount is None else amount
        currency = (currency or locked.currency).upper()
        locked.status = Status.SUCCEEDED
        locked.amount_received = received
        locked.succeeded_at = timezone.now()
        locked.failure_code = locked.failure_message = ""
        locked.last_event_id = event_id or locked.last_event_id
        if received != order.total or currency != order.currency:
            locked.problem = (
                f"Received {received} {currency}; the order asks {order.total} {order.currency}."
            )
            order_services.order_flag(order=order, reason=f"Payment mismatch: {locked.problem}")
        else:
            outcome = order_services.order_mark_paid(order=order.pk, user=user, note=note)
            if outcome in (PaidOutcome.ALREADY_PAID, PaidOutcome.CLOSED):
                locked.problem = (
                    "A second payment for an order already paid: refunded automatically."
                    if outcome == PaidOutcome.ALREADY_PAID
                    else "Paid after the order was cancelled: refunded automatically."
                )
                order_services.order_flag(order=order, reason=locked.problem)
                payment_id = locked.pk
                transaction.on_commit(
                    lambda: tasks.refund_payment_automatically.delay(payment_id), robust=True
                )
        locked.save()
    _copy(locked, payment)
    return locked


def payment_refresh(*, payment: Payment) -> Payment:
    """Ask the provider about an open payment and bring it up to date (the shopper is back from
    Stripe before its webhook, or a webhook never came)."""
    if payment.status not in (*OPEN, Status.PROCESSING):
        return payment
    outcome = providers.REGISTRY[payment.provider].fetch(payment)
    return payment if outcome is None else payment_apply(payment=payment, outcome=outcome)


def payment_manual_confirm(*, payment: Payment, user) -> Payment:
    """Staff saw the money of a manual payment arrive (same effects as a card payment)."""
    if payment.provider != Payment.Provider.MANUAL:
        raise PaymentError(
            "Only manual payments are confirmed by staff; card payments confirm themselves.",
            code="not_manual",
        )
    if payment.status not in OPEN:
        raise PaymentError(
            f"This payment is “{payment.get_status_display()}”: nothing to confirm.",
            code="payment_not_open",
        )
    return payment_succeeded(
        payment=payment, user=user, note=f"Manual payment confirmed by {user.email}"
    )


def order_pay_manually(*, order: Order, user) -> Payment:
    """Staff record that an order was paid outside the store (cash at the counter...)."""
    payment, _ = payment_start(order=order, provider_code=Payment.Provider.MANUAL, user=user)
    return payment_manual_confirm(payment=payment, user=user)


def payment_flag(*, payment: Payment, problem: str) -> None:
    """Mark a payment (and its order) for staff: a dispute, a gateway surprise."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if problem not in locked.problem:
            locked.problem = "; ".join(filter(None, [locked.problem, problem]))[:300]
            locked.save(update_fields=["problem", "updated_at"])
        order_services.order_flag(order=locked.order_id, reason=problem)


def _copy(source: Payment, target: Payment) -> None:
    if target is not source:
        for field in ("status", "amount_received", "refunded_amount", "problem", "succeeded_at"):
            setattr(target, field, getattr(source, field))
        target.failure_code, target.failure_message = source.failure_code, source.failure_message


# --- Refunds --------------------------------------------------------------------------------------


def refund_request(
    *, order: Order, user, reason: str, lines: Iterable[dict] | None = None
) -> Refund:
    """A shopper asks for money back on a paid order: the whole rest, or some lines
    (`[{"line": order line id, "quantity": n}]`). Staff decide in the admin."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status not in PAID_STATUSES:
            raise RefundError(
                f"Order {locked.number} is “{locked.get_status_display()}”: there is nothing "
                "to refund.",
                code="order_not_refundable",
                status_code=409,
            )
        if locked.refunds.filter(status=Refund.Status.REQUESTED).exists():
            raise RefundError(
                "A refund request for this order is already waiting for our answer.",
                code="refund_already_requested",
                status_code=409,
            )
        wanted = _refund_lines(locked, lines or [])
        left = locked.total - locked.refunded_total - _pending_refunds(locked)
        amount = min(sum((line.unit_price * qty for line, qty in wanted), ZERO), left)
        if not wanted:
            amount = left
        if amount <= 0:
            raise RefundError(
                "Everything paid on this order has been refunded or asked back already.",
                code="nothing_to_refund",
                status_code=409,
            )
        refund = Refund.objects.create(
            order=locked,
            amount=amount,
            currency=locked.currency,
            origin=Refund.Origin.CUSTOMER,
            reason=reason.strip()[:1000],
            requested_by=user if user is not None and user.is_authenticated else None,
        )
        RefundLine.objects.bulk_create(
            [RefundLine(refund=refund, order_line=line, quantity=qty) for line, qty in wanted]
        )
    return refund


def _refund_lines(order: Order, lines: Iterable[dict]) -> list[tuple[OrderLine, int]]:
    by_id = {line.pk: line for line in order.lines.all()}
    taken = dict(
        RefundLine.objects.filter(refund__order=order, refund__status__in=REFUND_COUNTED)
        .values_list("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    wanted, errors, seen = [], [], set()
    for index, item in enumerate(lines):
        line = by_id.get(item["line"])
        if line is None or line.pk in seen:
            errors.append(f"Line {index + 1}: not a line of this order (or named twice).")
            continue
        seen.add(line.pk)
        left = line.quantity - taken.get(line.pk, 0)
        if item["quantity"] > left:
            errors.append(f"Line {index + 1}: at most {left} of “{line.product_name}” left.")
            continue
        wanted.append((line, item["quantity"]))
    if errors:
        raise RefundError("Some lines cannot be refunded.", fields={"lines": errors})
    return wanted


def _pending_refunds(order: Order) -> Decimal:
    open_statuses = [Refund.Status.REQUESTED, Refund.Status.PROCESSING]
    total = order.refunds.filter(status__in=open_statuses).aggregate(s=Sum("amount"))["s"]
    return total or ZERO


def refund_approve(*, refund: Refund, user, return_stock: bool | None = None) -> Refund:
    """Staff approve a refund: the provider gives the money back (Stripe's Refund API; for a
    manual payment it is recorded, staff pay it back by hand), the order moves to partly or
    fully refunded and the shopper is emailed; the items return to stock when asked.

    The payment row stays locked while the provider is called, so the webhook that reports this
    same refund waits and then finds it already counted. A provider error leaves the refund
    "failed" with the reason (approve again to retry: the idempotency key is the same).
    """
    with transaction.atomic():
        locked = Refund.objects.select_for_update().select_related("order").get(pk=refund.pk)
        if locked.status not in (Refund.Status.REQUESTED, Refund.Status.FAILED):
            raise RefundError(
                f"This refund is already “{locked.get_status_display()}”.", code="refund_decided"
            )
        payment = (
            Payment.objects.select_for_update()
            .filter(order=locked.order, status=Status.SUCCEEDED, problem="")
            .order_by("-succeeded_at", "-pk")
            .first()
        )
        order = Order.objects.get(pk=locked.order_id)
        amount = min(
            locked.amount,
            payment.refundable if payment else ZERO,
            order.total - order.refunded_total,
        )
        if payment is None or amount <= 0:
            raise RefundError(
                "Nothing paid on this order is left to refund.", code="nothing_to_refund"
            )
        if return_stock is not None:
            locked.return_stock = return_stock
        provider = providers.REGISTRY[payment.provider]
        try:
            reference = provider.refund(
                payment, amount=amount, idempotency_key=f"refund-{locked.pk}", refund_id=locked.pk
            )
        except PaymentError as exc:
            locked.status = Refund.Status.FAILED
            locked.failure_message = exc.message[:300]
            locked.save(update_fields=["status", "failure_message", "return_stock", "updated_at"])
            return locked
        locked.amount, locked.reference, locked.payment = amount, reference, payment
        locked.status = Refund.Status.SUCCEEDED
        locked.failure_message = ""
        locked.decided_by, locked.decided_at = user, timezone.now()
        locked.save()
        _count_refund(payment, locked, user=user)
        if locked.return_stock:
            _return_stock(locked, user=user)
    return locked


def refund_reject(*, refund: Refund, user, note: str = "") -> Refund:
    with transaction.atomic():
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != Refund.Status.REQUESTED:
            raise RefundError(
                f"This refund is already “{locked.get_status_display()}”.", code="refund_decided"
            )
        locked.status = Refund.Status.REJECTED
        locked.staff_note = note[:500] or locked.staff_note
        locked.decided_by, locked.decided_at = user, timezone.now()
        locked.save()
        refund_id = locked.pk
        transaction.on_commit(
            lambda: tasks.send_refund_email.delay(refund_id, "refund_rejected"), robust=True
        )
    return locked


def refund_payment_automatically(*, payment: Payment) -> Refund | None:
    """Give back a payment the store cannot keep (a second payment, or one for a cancelled
    order). Runs from a task after the payment was recorded; safe to run twice."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Status.SUCCEEDED or locked.refundable <= 0:
            return None
        refund = Refund.objects.create(
            order_id=locked.order_id,
            payment=locked,
            amount=locked.refundable,
            currency=locked.currency,
            origin=Refund.Origin.AUTOMATIC,
            status=Refund.Status.PROCESSING,
            reason=locked.problem,
        )
        provider = providers.REGISTRY[locked.provider]
        reference = provider.refund(
            locked,
            amount=refund.amount,
            idempotency_key=f"auto-refund-{locked.pk}",
            refund_id=refund.pk,
        )
        refund.reference, refund.status = reference, Refund.Status.SUCCEEDED
        refund.save(update_fields=["reference", "status", "updated_at"])
        _count_refund(locked, refund, user=None)
        transaction.on_commit(
            lambda: tasks.send_refund_email.delay(refund.pk, "payment_returned"), robust=True
        )
    return refund


def refunds_sync_from_provider(
    *, payment: Payment, refunded_total: Decimal, reference: str = "", event_id: str = ""
) -> Refund | None:
    """The provider says `refunded_total` has been given back on this payment in all. What the
    store has not counted yet (a refund made in Stripe's dashboard) is recorded now; a report of
    what is already counted changes nothing."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        missing = min(refunded_total, locked.amount_received) - locked.refunded_amount
        if locked.status != Status.SUCCEEDED or missing <= 0:
            return None
        refund = Refund.objects.create(
            order_id=locked.order_id,
            payment=locked,
            amount=missing,
            currency=locked.currency,
            origin=Refund.Origin.PROVIDER,
            status=Refund.Status.SUCCEEDED,
            reference=reference[:100],
            reason="Refunded at the payment provider.",
            decided_at=timezone.now(),
        )
        locked.last_event_id = event_id or locked.last_event_id
        locked.save(update_fields=["last_event_id", "updated_at"])
        _count_refund(locked, refund, user=None)
    return refund


def _count_refund(payment: Payment, refund: Refund, *, user) -> None:
    """Add a refund to its (locked) payment, and to the order when that payment paid it."""
    try:
        with transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(
                refunded_amount=payment.refunded_amount + refund.amount
            )
    except IntegrityError:
        raise RefundError("A refund cannot exceed what was received.") from None
    payment.refunded_amount += refund.amount
    if payment.problem:
        return  # a payment the order never counted (second payment, mismatch): order unchanged
    order_services.order_refund_record(
        order=refund.order_id,
        amount=refund.amount,
        user=user,
        note=f"Refund of {refund.amount} {refund.currency}",
    )


def _return_stock(refund: Refund, *, user) -> None:
    lines = list(refund.lines.select_related("order_line"))
    if lines:
        stock = [StockLine(rl.order_line.variant_id, rl.quantity) for rl in lines]
    else:
        stock = [
            StockLine(variant_id, quantity)
            for variant_id, quantity in refund.order.lines.values_list("variant_id", "quantity")
        ]
    catalog_services.stock_release(
        lines=stock,
        reference=f"refund:{refund.order.number}",
        reason=StockMovement.Reason.RETURN,
        user=user,
    )
