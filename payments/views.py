"""The pay step on the shop's pages: choose a method, then pay by card with Stripe's Payment
Element, or get the manual method's instructions. Order access is the order pages' own: a
member's orders, or the guest orders this browser placed or opened from the emailed link."""

import contextlib

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from orders.models import PAID_STATUSES, Order
from orders.views import orders_for_request
from payments import providers, services
from payments.exceptions import PaymentError
from payments.forms import RefundRequestForm
from payments.models import Payment, Refund


def _order(request: HttpRequest, number: str) -> Order:
    return get_object_or_404(orders_for_request(request), number=number.upper())


def _order_page(request: HttpRequest, order: Order) -> str:
    if request.user.is_authenticated:
        return order.get_absolute_url()
    return reverse("orders:confirmation", args=[order.number])


@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, number: str) -> HttpResponse:
    """GET: the methods on offer. POST: start paying with one (a card form, or instructions)."""
    order = _order(request, number)
    offered = providers.enabled()
    if request.method == "GET" or not order.can_pay:
        if not order.can_pay:
            messages.info(request, f"Order {order.number} is {order.get_status_display().lower()}.")
            return redirect(_order_page(request, order))
        return render(request, "payments/pay.html", {"order": order, "providers": offered})
    try:
        payment, started = services.payment_start(
            order=order, provider_code=request.POST.get("provider", ""), user=request.user
        )
    except PaymentError as error:
        messages.error(request, error.message)
        context = {"order": order, "providers": offered}
        return render(request, "payments/pay.html", context, status=error.status_code)
    if payment.provider == Payment.Provider.MANUAL:
        return redirect("payments:manual", number=order.number)
    context = {
        "order": order,
        "payment": payment,
        "client_secret": started.client_secret,
        "publishable_key": providers.get(payment.provider).client_config()["publishable_key"],
        "return_url": request.build_absolute_uri(reverse("payments:done", args=[order.number])),
    }
    return render(request, "payments/card.html", context)


def manual(request: HttpRequest, number: str) -> HttpResponse:
    """The manual method's confirmation: what to pay, how, and what happens next."""
    order = _order(request, number)
    payment = order.payments.filter(provider=Payment.Provider.MANUAL).order_by("-pk").first()
    if payment is None:
        return redirect("payments:pay", number=order.number)
    context = {
        "order": order,
        "payment": payment,
        "instructions": providers.REGISTRY["manual"].client_config()["instructions"],
    }
    return render(request, "payments/manual.html", context)


def done(request: HttpRequest, number: str) -> HttpResponse:
    """Where Stripe sends the shopper back. The webhook may still be on its way, so the payment
    is asked about at Stripe once; "processing" says to wait."""
    order = _order(request, number)
    payment = order.payments.filter(provider=Payment.Provider.STRIPE).order_by("-pk").first()
    if payment is not None and payment.status != Payment.Status.SUCCEEDED:
        # Stripe unreachable: the page says we are still confirming.
        with contextlib.suppress(PaymentError):
            payment = services.payment_refresh(payment=payment)
        order.refresh_from_db()
    return render(request, "payments/done.html", {"order": order, "payment": payment})


@require_http_methods(["GET", "POST"])
def refund_request(request: HttpRequest, number: str) -> HttpResponse:
    """Ask for money back on a paid order: some items, or everything not yet refunded."""
    order = _order(request, number)
    if order.status not in PAID_STATUSES:
        messages.info(request, f"Order {order.number} has nothing to refund.")
        return redirect(_order_page(request, order))
    open_request = order.refunds.filter(status=Refund.Status.REQUESTED).first()
    form = RefundRequestForm(request.POST or None, order=order)
    if request.method == "POST" and open_request is None and form.is_valid():
        try:
            services.refund_request(
                order=order,
                user=request.user,
                reason=form.cleaned_data["reason"],
                lines=form.chosen_lines(),
            )
        except PaymentError as error:
            form.add_error(None, error.message)
            for message in error.fields.get("lines", []):
                form.add_error(None, message)
        else:
            messages.success(
                request, "Thank you: we have your request and answer by email within two days."
            )
            return redirect(_order_page(request, order))
    context = {"order": order, "form": form, "open_request": open_request}
    status = 400 if request.method == "POST" else 200
    return render(request, "payments/refund_request.html", context, status=status)
