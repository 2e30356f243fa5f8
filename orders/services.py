"""Every write of carts and orders.

Lock order (the same everywhere, so concurrent writers cannot deadlock): cart, then discount
code, then variants in pk order (catalog.services), then the order row.

Effects after commit (signals, emails) are queued with `robust=True`: the order is already
saved, so a failing email or receiver is logged and must not turn a placed order into an error.
"""

import secrets
import uuid
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog import services as catalog_services
from catalog.exceptions import InsufficientStock
from catalog.models import ProductVariant, StockMovement
from catalog.services import StockLine
from orders import pricing, selectors, signals, tasks, tokens
from orders.exceptions import (
    CartError,
    CheckoutError,
    DiscountInvalid,
    IllegalTransition,
    OrderError,
    VerificationFailed,
)
from orders.models import (
    MAX_LINE_QUANTITY,
    Cart,
    CartItem,
    DiscountCode,
    DiscountRedemption,
    Order,
    OrderLine,
    OrderStatusChange,
    ShippingMethod,
)

Status = Order.Status
EXPIRED_NOTE = "Not paid in time"
CUSTOMER_CANCEL_NOTE = "Cancelled by the customer"
CART_SESSION_KEY = "cart_token"  # where pages keep an anonymous cart's token
CART_HEADER = "X-Session-ID"  # how apps send it

# --- Cart ---------------------------------------------------------------------------------------


def cart_get_or_create(*, user=None, token=None) -> Cart:
    """The cart of a member, or the anonymous cart with `token` (a new one if there is none).

    A member who brings an anonymous cart (signed in after filling it) gets it merged.
    """
    anonymous = None
    if _is_uuid(token):
        anonymous = Cart.objects.filter(token=token, user__isnull=True).first()
    if user is not None and user.is_authenticated:
        cart, _ = Cart.objects.get_or_create(user=user)
        if anonymous is not None:
            cart_merge(source=anonymous, target=cart)
        return cart
    return anonymous or Cart.objects.create()


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return bool(value)


def _locked_cart(cart: Cart) -> None:
    """Lock the cart's row for a change (one change of a cart at a time) and mark it touched
    now: a cart nobody has touched for CART_KEEP_DAYS is stale (`carts_delete_stale`)."""
    if not Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now()):
        raise Cart.DoesNotExist


def _buyable_variant(variant_id) -> ProductVariant:
    try:
        return ProductVariant.objects.buyable().get(pk=variant_id)
    except ProductVariant.DoesNotExist:
        raise CartError(
            "This item is not available.",
            code="unavailable",
            fields={"variant": ["This item is not available."]},
        ) from None


def _check_quantity(variant: ProductVariant, quantity: int) -> None:
    if quantity > MAX_LINE_QUANTITY:
        raise CartError(
            f"At most {MAX_LINE_QUANTITY} of one item per order.",
            code="quantity_too_large",
            fields={"quantity": [f"At most {MAX_LINE_QUANTITY} of one item per order."]},
        )
    if variant.track_inventory and quantity > variant.stock:
        message = "Sold out." if variant.stock <= 0 else f"Only {variant.stock} left."
        raise CartError(
            message, code="insufficient_stock", status_code=409, fields={"quantity": [message]}
        )


@transaction.atomic
def cart_item_add(*, cart: Cart, variant_id: int, quantity: int = 1) -> CartItem:
    """Put `quantity` more of a variant in the cart (a new line, or more on its line)."""
    if quantity < 1:
        raise CartError(
            "Add at least one.", code="invalid", fields={"quantity": ["Add at least one."]}
        )
    _locked_cart(cart)
    variant = _buyable_variant(variant_id)
    item = CartItem.objects.filter(cart=cart, variant=variant).first()
    total = quantity + (item.quantity if item else 0)
    _check_quantity(variant, total)
    if item is None:
        item = CartItem.objects.create(cart=cart, variant=variant, quantity=total)
    else:
        item.quantity = total
        item.save(update_fields=["quantity"])
    return item


@transaction.atomic
def cart_item_update(*, cart: Cart, item_id: int, quantity: int) -> CartItem | None:
    """Set a line's quantity; 0 removes it (returns None). Raises CartItem.DoesNotExist for a
    line of another cart."""
    _locked_cart(cart)
    item = CartItem.objects.select_related("variant__product").get(pk=item_id, cart=cart)
    if quantity <= 0:
        item.delete()
        return None
    if quantity > item.quantity:  # lowering a quantity is always allowed, even when short
        _check_quantity(item.variant, quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_item_remove(*, cart: Cart, item_id: int) -> None:
    deleted, _ = CartItem.objects.filter(pk=item_id, cart=cart).delete()
    if not deleted:
        raise CartItem.DoesNotExist


def cart_clear(*, cart: Cart) -> None:
    CartItem.objects.filter(cart=cart).delete()


@transaction.atomic
def cart_merge(*, source: Cart, target: Cart) -> Cart:
    """Move the lines of an anonymous cart into a member's, adding quantities up to what can be
    bought, then delete the anonymous cart."""
    if source.pk == target.pk:
        return target
    first, second = sorted([source, target], key=lambda c: c.pk)
    _locked_cart(first), _locked_cart(second)
    existing = {item.variant_id: item for item in target.items.select_related("variant")}
    for item in source.items.select_related("variant"):
        mine = existing.get(item.variant_id)
        wanted = item.quantity + (mine.quantity if mine else 0)
        if item.variant.track_inventory:
            wanted = min(wanted, max(item.variant.stock, mine.quantity if mine else 1))
        wanted = min(wanted, MAX_LINE_QUANTITY)
        if mine is None:
            item.cart = target
            item.quantity = wanted
            item.save(update_fields=["cart", "quantity"])
        else:
            mine.quantity = wanted
            mine.save(update_fields=["quantity"])
    source.delete()
    return target


def carts_delete_stale(*, days: int | None = None) -> int:
    """Delete anonymous carts nobody has touched for `days` (default CART_KEEP_DAYS); returns
    how many carts went."""
    days = settings.CART_KEEP_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    _, per_model = Cart.objects.filter(user__isnull=True, updated_at__lt=cutoff).delete()
    return per_model.get(Cart._meta.label, 0)


# --- Checkout -----------------------------------------------------------------------------------

ADDRESS_FIELDS = (
    "recipient",
    "phone",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
)
REQUIRED_ADDRESS_FIELDS = ("recipient", "line1", "city", "postal_code", "country")


def cart_totals(
    cart: Cart,
    *,
    shipping_method: ShippingMethod | None = None,
    discount: DiscountCode | None = None,
    items: list[CartItem] | None = None,
) -> pricing.Totals:
    items = selectors.cart_lines(cart) if items is None else items
    lines = [pricing.price_line(i.variant, i.quantity, item_id=i.pk) for i in items]
    return pricing.price(lines, shipping_method=shipping_method, discount=discount)


def _new_order_number() -> str:
    """Like "K7M4-P2XQ": easy to read out on the phone (no 0/O, 1/I/L)."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _check_address(address: Mapping | None) -> dict:
    address = {k: (address or {}).get(k) or "" for k in ADDRESS_FIELDS}
    missing = {k: ["This field is required."] for k in REQUIRED_ADDRESS_FIELDS if not address[k]}
    if missing:
        raise CheckoutError(
            "A shipping address is needed.",
            code="address_required",
            fields={f"shipping_address.{k}": v for k, v in missing.items()},
        )
    return address


def _discount_find(code_text: str, *, lock: bool) -> DiscountCode:
    codes = DiscountCode.objects.select_for_update() if lock else DiscountCode.objects.all()
    code = codes.filter(code=code_text.strip().upper()).first()
    if code is None:
        raise DiscountInvalid(
            "This code does not exist.",
            code="discount_unknown",
            fields={"discount_code": ["This code does not exist."]},
        )
    return code


def discount_preview(*, code_text: str, subtotal) -> DiscountCode:
    """The code a shopper typed, if it can apply to `subtotal` now. Only a preview for the
    checkout page: `order_place` checks again with the row locked and the customer's own uses.
    Raises DiscountInvalid."""
    code = _discount_find(code_text, lock=False)
    pricing.discount_check(code, subtotal=subtotal)
    return code


def _locked_discount(code_text: str, *, email: str, subtotal) -> DiscountCode:
    code = _discount_find(code_text, lock=True)
    pricing.discount_check(code, subtotal=subtotal)
    if code.per_customer_limit is not None:
        used = DiscountRedemption.objects.filter(discount=code, email__iexact=email).count()
        if used >= code.per_customer_limit:
            raise DiscountInvalid(
                "You have already used this code.",
                code="discount_used_by_you",
                fields={"discount_code": ["You have already used this code."]},
            )
    return code


def _refuse_problems(totals: pricing.Totals) -> None:
    if not totals.lines:
        raise CheckoutError("Your cart is empty.", code="cart_empty")
    if totals.problems:
        raise CheckoutError(
            "Some items cannot be bought as they are in your cart.",
            code="cart_has_problems",
            status_code=409,
            lines=[_line_problem(line) for line in totals.problems],
        )


def _line_problem(line: pricing.PricedLine) -> dict:
    return {
        "item_id": line.item_id,
        "variant_id": line.variant.pk,
        "sku": line.variant.sku,
        "problem": line.problem,
        "available": line.available,
        "message": pricing.problem_text(line),
    }


def _snapshot_line(order: Order, line: pricing.PricedLine) -> OrderLine:
    variant = line.variant
    image = selectors.line_picture(variant)
    return OrderLine(
        order=order,
        variant=variant,
        product_name=variant.product.name,
        variant_name=variant.name,
        sku=variant.sku,
        image=image.image.name if image else "",
        is_digital=line.is_digital,
        unit_price=line.unit_price,
        quantity=line.quantity,
        line_total=line.line_total,
    )


def order_place(
    *,
    cart: Cart,
    email: str,
    user=None,
    shipping_address: Mapping | None = None,
    shipping_method: ShippingMethod | int | None = None,
    discount_code: str = "",
    note: str = "",
) -> Order:
    """Turn the cart into an order, holding its stock, in one transaction.

    Locks the cart (one order per cart at a time), the discount code, then the variants in pk
    order. Every line is reserved or none is: raises CheckoutError (code `cart_has_problems` or
    `insufficient_stock`, with `lines` naming each line at fault), DiscountInvalid, or
    CheckoutError for a missing address or shipping method. A query count that does not grow
    with the number of lines. The order returned carries its lines and history (`line_list`,
    `history`), as `selectors.orders_with_details` would read them.
    """
    member = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        _locked_cart(cart)
        items = selectors.cart_lines(cart)
        totals = cart_totals(cart, items=items)
        _refuse_problems(totals)

        method = None
        address = {}
        if totals.needs_shipping:
            method = _shipping_method(shipping_method)
            address = _check_address(shipping_address)
        discount = None
        if discount_code.strip():
            discount = _locked_discount(discount_code, email=email, subtotal=totals.subtotal)
        totals = pricing.price(totals.lines, shipping_method=method, discount=discount)

        number = _new_order_number()
        try:
            catalog_services.stock_reserve(
                lines=[StockLine(line.variant.pk, line.quantity) for line in totals.lines],
                reference=f"order:{number}",
                user=member,
            )
        except InsufficientStock as exc:
            by_variant = {line.variant.pk: line for line in totals.lines}
            raise CheckoutError(
                "Some items sold out while you were checking out.",
                code="insufficient_stock",
                status_code=409,
                lines=[
                    {
                        **_line_problem(by_variant[s["variant_id"]]),
                        "problem": "sold_out" if not s["available"] else "insufficient_stock",
                        "available": s["available"],
                        "message": "Sold out."
                        if not s["available"]
                        else f"Only {s['available']} left.",
                    }
                    for s in exc.shortages
                ],
            ) from exc

        now = timezone.now()
        order = _create_order_row(
            number=number,
            user=member,
            email=email.strip().lower(),
            email_verified_at=now if member else None,
            currency=totals.currency,
            subtotal=totals.subtotal,
            shipping_total=totals.shipping,
            discount_total=totals.discount,
            total=totals.total,
            shipping_method=method,
            shipping_method_name=method.name if method else "",
            discount_code=discount.code if discount else "",
            customer_note=note[:500],
            expires_at=now + timedelta(minutes=settings.ORDER_PAYMENT_MINUTES),
            **{f"ship_{k}": v for k, v in address.items()},
        )
        lines = OrderLine.objects.bulk_create(
            [_snapshot_line(order, line) for line in totals.lines]
        )
        if discount is not None:
            DiscountRedemption.objects.create(
                discount=discount, order=order, email=order.email, amount=totals.discount
            )
            DiscountCode.objects.filter(pk=discount.pk).update(times_used=F("times_used") + 1)
        placed = OrderStatusChange.objects.create(
            order=order, to_status=order.status, changed_by=member
        )
        CartItem.objects.filter(cart=cart).delete()
        # The order as `selectors.orders_with_details` reads it, without reading it again.
        order.line_list, order.history = lines, [placed]

        transaction.on_commit(
            lambda: signals.order_placed.send(sender=Order, order=order), robust=True
        )
        if member:
            transaction.on_commit(
                lambda: tasks.send_order_email.delay(order.pk, "received"), robust=True
            )
        else:
            transaction.on_commit(
                lambda: tasks.send_order_email.delay(order.pk, "verify"), robust=True
            )
    return order


def _shipping_method(method: ShippingMethod | int | None) -> ShippingMethod:
    method_id = method.pk if isinstance(method, ShippingMethod) else method
    found = (
        ShippingMethod.objects.filter(pk=method_id, is_active=True).first() if method_id else None
    )
    if found is None:
        raise CheckoutError(
            "Choose how to ship your order.",
            code="shipping_method_required",
            fields={"shipping_method": ["Choose one of the shipping methods offered."]},
        )
    return found


def _create_order_row(**fields) -> Order:
    """Insert the order; on the (rare) clash of a random number, draw another one."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Order.objects.create(**fields)
        except IntegrityError:
            if not Order.objects.filter(number=fields["number"]).exists():
                raise
            fields["number"] = _new_order_number()
    raise RuntimeError("Could not draw a free order number.")


# --- Guests -------------------------------------------------------------------------------------


def order_guest_verify(*, token: str = "", number: str = "", code: str = "") -> Order:
    """Confirm a guest's email with the emailed link's token, or the order number and the short
    code (for apps). Idempotent. Raises VerificationFailed for a wrong, expired or reused-by-
    another-order token or code."""
    if token:
        order_id = tokens.guest_token_check(token, max_age=tokens.verify_max_age())
        order = Order.objects.filter(pk=order_id).first()
    else:
        order = Order.objects.filter(number=number.strip().upper()).first()
        if order is not None and not tokens.guest_code_check(order, code):
            order = None
    if order is None:
        raise VerificationFailed(
            "This link or code is not valid, or has expired.",
            fields={"code" if number else "token": ["Not valid, or expired."]},
        )
    if order.email_verified_at is None:
        Order.objects.filter(pk=order.pk, email_verified_at__isnull=True).update(
            email_verified_at=timezone.now()
        )
        order.refresh_from_db(fields=["email_verified_at"])
    return order


# --- Status -------------------------------------------------------------------------------------

TRANSITIONS: dict[str, set[str]] = {
    Status.PENDING_PAYMENT: {Status.PAID, Status.CANCELLED},
    Status.PAID: {
        Status.PROCESSING,
        Status.DELIVERED,  # digital-only orders are delivered on payment
        Status.CANCELLED,
        Status.PARTIALLY_REFUNDED,
        Status.REFUNDED,
    },
    Status.PROCESSING: {
        Status.SHIPPED,
        Status.CANCELLED,
        Status.PARTIALLY_REFUNDED,
        Status.REFUNDED,
    },
    Status.SHIPPED: {Status.DELIVERED, Status.PARTIALLY_REFUNDED, Status.REFUNDED},
    Status.DELIVERED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
    Status.PARTIALLY_REFUNDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
    Status.CANCELLED: set(),
    Status.REFUNDED: set(),
}
# Stock goes back on the shelf when an order is cancelled before it left the building.
RELEASES_STOCK = {Status.CANCELLED}
TIMESTAMPS = {
    Status.PAID: "paid_at",
    Status.SHIPPED: "shipped_at",
    Status.DELIVERED: "delivered_at",
    Status.CANCELLED: "cancelled_at",
}
STATUS_SIGNALS = {
    Status.PAID: signals.order_paid,
    Status.SHIPPED: signals.order_shipped,
    Status.DELIVERED: signals.order_delivered,
    Status.CANCELLED: signals.order_cancelled,
    Status.PARTIALLY_REFUNDED: signals.order_refunded,
    Status.REFUNDED: signals.order_refunded,
}
STATUS_EMAILS = {
    Status.PAID: "paid",
    Status.SHIPPED: "shipped",
    Status.CANCELLED: "cancelled",
    Status.PARTIALLY_REFUNDED: "refunded",
    Status.REFUNDED: "refunded",
}


def order_transition(
    *,
    order: Order | int,
    to: str,
    user=None,
    note: str = "",
    tracking_number: str = "",
    carrier: str = "",
    expected_from: set[str] | None = None,
) -> Order:
    """Move an order to status `to`: with `_move`, the only code that changes `Order.status`.

    Locks the order row, checks the transition table (and `expected_from`, for callers that act
    only on some statuses), stamps the time, releases stock on cancellation (exactly once: the
    locked status decides), records a status-history row, then after commit sends the status's
    signal and email. Raises IllegalTransition (400) for a move the table does not allow.
    """
    order_id = order if isinstance(order, int) else order.pk
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order_id)
        previous = locked.status
        allowed = TRANSITIONS.get(previous, set())
        if to not in allowed or (expected_from is not None and previous not in expected_from):
            target = Status(to).label if to in Status.values else to
            raise IllegalTransition(
                f"An order that is “{locked.get_status_display()}” cannot become “{target}”.",
                fields={"status": [f"Allowed next: {', '.join(sorted(allowed)) or 'none'}."]},
            )
        changed = []
        if to == Status.SHIPPED:
            if not locked.needs_shipping:
                raise IllegalTransition(
                    "Only orders with goods to send can be shipped.",
                    fields={"status": ["This order has nothing to ship."]},
                )
            if not tracking_number.strip():
                raise IllegalTransition(
                    "A shipped order needs its tracking number.",
                    code="tracking_number_required",
                    fields={"tracking_number": ["This field is required."]},
                )
            locked.tracking_number, locked.carrier = tracking_number.strip(), carrier.strip()
            changed += ["tracking_number", "carrier"]
        if to == Status.DELIVERED and previous == Status.PAID and locked.needs_shipping:
            raise IllegalTransition(
                "Goods must be shipped before they are delivered.",
                fields={"status": ["Ship the order first."]},
            )
        _move(locked, to, user=user, note=note, changed=changed)
        if to in RELEASES_STOCK:
            _release_stock(locked, user=user)
            if previous == Status.PENDING_PAYMENT:
                _return_discount_use(locked)
    if not isinstance(order, int):
        for field in ("status", "tracking_number", "carrier", *TIMESTAMPS.values()):
            setattr(order, field, getattr(locked, field))
    return locked


def _move(locked: Order, to: str, *, user, note: str, changed: list[str]) -> None:
    """Save a locked order in status `to`, with its timestamp and history row, and queue the
    status's signal and email for after commit."""
    previous = locked.status
    locked.status = to
    changed = [*changed, "status", "updated_at"]
    if to in TIMESTAMPS:
        setattr(locked, TIMESTAMPS[to], timezone.now())
        changed.append(TIMESTAMPS[to])
    locked.save(update_fields=changed)
    OrderStatusChange.objects.create(
        order=locked,
        from_status=previous,
        to_status=to,
        note=note[:255],
        changed_by=user if user is not None and user.is_authenticated else None,
    )
    _after_commit(locked, previous)


def _release_stock(order: Order, *, user) -> None:
    lines = order.lines.values_list("variant_id", "quantity")
    catalog_services.stock_release(
        lines=[StockLine(variant_id, quantity) for variant_id, quantity in lines],
        reference=f"order:{order.number}",
        reason=StockMovement.Reason.ORDER_RELEASED,
        user=user if user is not None and user.is_authenticated else None,
    )


def _return_discount_use(order: Order) -> None:
    """An order that never got paid gives its discount use back."""
    redemption = DiscountRedemption.objects.filter(order=order).first()
    if redemption is not None:
        DiscountCode.objects.filter(pk=redemption.discount_id, times_used__gt=0).update(
            times_used=F("times_used") - 1
        )
        redemption.delete()


def _after_commit(order: Order, previous: str) -> None:
    def send() -> None:
        signals.order_status_changed.send(sender=Order, order=order, previous_status=previous)
        signal = STATUS_SIGNALS.get(order.status)
        if signal is not None:
            signal.send(sender=Order, order=order, previous_status=previous)

    transaction.on_commit(send, robust=True)
    email = STATUS_EMAILS.get(order.status)
    if email:
        transaction.on_commit(lambda: tasks.send_order_email.delay(order.pk, email), robust=True)


def order_cancel_by_customer(*, order: Order, user=None) -> Order:
    """Shoppers may cancel an order they have not paid for yet."""
    return order_transition(
        order=order,
        to=Status.CANCELLED,
        user=user,
        note=CUSTOMER_CANCEL_NOTE,
        expected_from={Status.PENDING_PAYMENT},
    )


def orders_expire_unpaid(*, now=None) -> int:
    """Cancel unpaid orders whose time is up; their stock returns. Returns how many expired.

    Safe to run twice at once: each order is re-checked under its row lock.
    """
    now = now or timezone.now()
    # A flagged order (money arrived but did not match) waits for staff instead.
    due = Order.objects.filter(status=Status.PENDING_PAYMENT, expires_at__lte=now, attention="")
    expired = 0
    for order_id in due.values_list("pk", flat=True).order_by("expires_at")[:500]:
        try:
            order_transition(
                order=order_id,
                to=Status.CANCELLED,
                note=EXPIRED_NOTE,
                expected_from={Status.PENDING_PAYMENT},
            )
        except IllegalTransition:
            continue  # paid or cancelled meanwhile
        expired += 1
    return expired


# --- Payments and refunds (called by the payments app) ------------------------------------------


class PaidOutcome(StrEnum):
    PAID = "paid"  # the order moved to paid now
    REVIVED = "revived"  # it had expired; its stock was taken again and it is paid
    ALREADY_PAID = "already_paid"  # an earlier payment paid it: this one is a second payment
    CLOSED = "closed"  # cancelled and cannot be revived: the money must go back


def order_mark_paid(*, order: Order | int, user=None, note: str = "") -> PaidOutcome:
    """Record that the order's money arrived: the one "order paid" step of every provider.

    A pending order becomes paid. An order that expired while the shopper was paying is revived
    when its stock can be reserved again (and its discount use counted again); otherwise, or
    when it was cancelled on purpose, the outcome is CLOSED and the caller refunds the money.
    """
    order_id = order if isinstance(order, int) else order.pk
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order_id)
        if locked.status == Status.PENDING_PAYMENT:
            _move(locked, Status.PAID, user=user, note=note, changed=[])
            return PaidOutcome.PAID
        if locked.status != Status.CANCELLED:
            return PaidOutcome.ALREADY_PAID
        if _cancel_note(locked) != EXPIRED_NOTE or locked.paid_at is not None:
            return PaidOutcome.CLOSED
        try:
            with transaction.atomic():
                catalog_services.stock_reserve(
                    lines=[
                        StockLine(variant_id, quantity)
                        for variant_id, quantity in locked.lines.values_list(
                            "variant_id", "quantity"
                        )
                    ],
                    reference=f"order:{locked.number}",
                    user=user if user is not None and user.is_authenticated else None,
                )
        except InsufficientStock:
            return PaidOutcome.CLOSED
        _retake_discount_use(locked)
        locked.cancelled_at = None
        _move(
            locked,
            Status.PAID,
            user=user,
            note=note or "Paid after it had expired: stock reserved again",
            changed=["cancelled_at"],
        )
        return PaidOutcome.REVIVED


def _cancel_note(order: Order) -> str:
    last = (
        order.status_changes.filter(to_status=Status.CANCELLED)
        .order_by("-created_at", "-pk")
        .first()
    )
    return last.note if last else ""


def _retake_discount_use(order: Order) -> None:
    """A revived order counts its discount use again (the price was already paid with it)."""
    if not order.discount_code:
        return
    discount = DiscountCode.objects.filter(code=order.discount_code).first()
    if discount is None:
        return
    _, created = DiscountRedemption.objects.get_or_create(
        order=order,
        defaults={"discount": discount, "email": order.email, "amount": order.discount_total},
    )
    if created:
        DiscountCode.objects.filter(pk=discount.pk).update(times_used=F("times_used") + 1)


def order_refund_record(*, order: Order | int, amount, user=None, note: str = "") -> Order:
    """Add money given back to the order's refunded total and move it to partly refunded or
    refunded. A cancelled order (money returned because it could not be served) keeps its
    status. Raises OrderError when the refunds would exceed what was paid."""
    order_id = order if isinstance(order, int) else order.pk
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order_id)
        refunded = locked.refunded_total + amount
        if amount <= 0 or refunded > locked.total:
            raise OrderError(
                "A refund cannot exceed what is left to refund on the order.",
                code="refund_too_large",
                fields={"amount": [f"At most {locked.total - locked.refunded_total}."]},
            )
        locked.refunded_total = refunded
        if locked.status == Status.CANCELLED:
            locked.save(update_fields=["refunded_total", "updated_at"])
        else:
            to = Status.REFUNDED if refunded == locked.total else Status.PARTIALLY_REFUNDED
            if to not in TRANSITIONS.get(locked.status, set()):
                raise IllegalTransition(
                    f"An order that is “{locked.get_status_display()}” cannot be refunded.",
                    fields={"status": ["Only paid orders can be refunded."]},
                )
            _move(locked, to, user=user, note=note, changed=["refunded_total"])
    return locked


def order_hold_until(*, order: Order | int, until) -> None:
    """Keep an unpaid order (and its stock) until `until`, e.g. while a bank transfer travels."""
    order_id = order if isinstance(order, int) else order.pk
    Order.objects.filter(pk=order_id, status=Status.PENDING_PAYMENT, expires_at__lt=until).update(
        expires_at=until, updated_at=timezone.now()
    )


def order_flag(*, order: Order | int, reason: str) -> None:
    """Ask staff to look at an order (listed under "needs attention" in the admin)."""
    order_id = order if isinstance(order, int) else order.pk
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order_id)
        if reason in locked.attention:
            return
        locked.attention = "; ".join(filter(None, [locked.attention, reason]))[:500]
        locked.save(update_fields=["attention", "updated_at"])
