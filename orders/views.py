"""The shopper's pages: cart, checkout, confirmation, order history, the guest's order link.

Thin: forms check the input, `orders.services` does every write and decides what can be bought.
Cart actions work as plain POST + redirect, and with htmx (`HX-Request`) they answer with the
re-rendered cart, the header's item count and a status line, swapped in place.
"""

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as account_selectors
from catalog.models import ProductImage
from orders import pricing, selectors, services, tokens
from orders.exceptions import CartError, CheckoutError, DiscountInvalid, IllegalTransition
from orders.forms import NEW_ADDRESS, CartAddForm, CartUpdateForm, CheckoutForm, first_error
from orders.models import Cart, CartItem, DiscountCode, Order, ShippingMethod

ORDERS_PER_PAGE = 20
# Numbers of the orders a guest placed in this session: their confirmation pages open only here.
GUEST_ORDERS_KEY = "guest_orders"
GUEST_ORDERS_KEPT = 20


# --- Finding the shopper's cart -----------------------------------------------------------------


def _session_token(request: HttpRequest) -> str | None:
    token = request.session.get(services.CART_SESSION_KEY)
    try:
        uuid.UUID(str(token))
    except ValueError:
        return None
    return str(token)


def _find_cart(request: HttpRequest) -> Cart | None:
    """The shopper's cart, or None when they have none yet (reading never creates one)."""
    token = _session_token(request)
    if request.user.is_authenticated:
        if token:  # an anonymous cart the login did not pick up: merge it now
            return _cart_for_writing(request)
        return Cart.objects.filter(user=request.user).first()
    if token is None:
        return None
    return Cart.objects.filter(token=token, user__isnull=True).first()


def _cart_for_writing(request: HttpRequest) -> Cart:
    token = _session_token(request)
    if request.user.is_authenticated:
        cart = services.cart_get_or_create(user=request.user, token=token)
        request.session.pop(services.CART_SESSION_KEY, None)
        return cart
    cart = services.cart_get_or_create(token=token)
    if token != str(cart.token):
        request.session[services.CART_SESSION_KEY] = str(cart.token)
    return cart


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


# --- Cart ---------------------------------------------------------------------------------------


@dataclass
class CartRow:
    line: pricing.PricedLine
    image: ProductImage | None
    problem: str


def _rows(totals: pricing.Totals, problems: dict[int, str] | None = None) -> list[CartRow]:
    problems = problems or {}
    return [
        CartRow(
            line=line,
            image=selectors.line_picture(line.variant),
            problem=problems.get(line.item_id) or pricing.problem_text(line),
        )
        for line in totals.lines
    ]


def _cart_context(cart: Cart | None) -> dict:
    items = selectors.cart_lines(cart) if cart is not None else []
    totals = services.cart_totals(cart, items=items) if cart is not None else pricing.price([])
    return {
        "totals": totals,
        "rows": _rows(totals),
        "can_checkout": bool(totals.lines) and not totals.problems,
        # The header's count, from the lines already loaded (no query of its own).
        "cart_item_count": totals.item_count,
    }


def _cart_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    context = _cart_context(_find_cart(request))
    template = "orders/_cart_update.html" if _is_htmx(request) else "orders/cart.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _cart_done(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    if _is_htmx(request):
        return _cart_page(request)
    return redirect("orders:cart")


def _cart_refused(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    messages.error(request, message)
    return _cart_page(request, status=status)


@require_http_methods(["GET", "HEAD"])
def cart(request: HttpRequest) -> HttpResponse:
    return _cart_page(request)


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = CartAddForm(request.POST)
    if not form.is_valid():
        return _cart_refused(request, first_error(form), status=400)
    cart = _cart_for_writing(request)
    try:
        item = services.cart_item_add(
            cart=cart,
            variant_id=form.cleaned_data["variant"],
            quantity=form.cleaned_data["quantity"],
        )
    except CartError as exc:
        return _cart_refused(request, exc.message, status=exc.status_code)
    return _cart_done(request, f"Added {_item_name(item)} to your cart.")


def _cart_item(request: HttpRequest, item_id: int) -> tuple[Cart, CartItem]:
    """The shopper's cart and one of its lines; 404 for a line of any other cart."""
    cart = _find_cart(request)
    item = (
        CartItem.objects.select_related("variant__product").filter(pk=item_id, cart=cart).first()
        if cart is not None
        else None
    )
    if item is None:
        raise Http404("This item is not in your cart.")
    return cart, item


def _item_name(item: CartItem) -> str:
    variant = item.variant
    return f"{variant.product.name} ({variant.name})" if variant.name else variant.product.name


@require_POST
def cart_update(request: HttpRequest, item_id: int) -> HttpResponse:
    form = CartUpdateForm(request.POST)
    if not form.is_valid():
        return _cart_refused(request, first_error(form), status=400)
    try:
        cart, item = _cart_item(request, item_id)
    except Http404 as exc:
        return _cart_refused(request, str(exc), status=404)
    quantity = form.cleaned_data["quantity"]
    try:
        services.cart_item_update(cart=cart, item_id=item.pk, quantity=quantity)
    except CartItem.DoesNotExist:  # removed by another tab meanwhile
        return _cart_refused(request, "This item is not in your cart.", status=404)
    except CartError as exc:
        return _cart_refused(request, f"{_item_name(item)}: {exc.message}", status=exc.status_code)
    if quantity == 0:
        return _cart_done(request, f"Removed {_item_name(item)} from your cart.")
    return _cart_done(request, f"{_item_name(item)}: quantity changed to {quantity}.")


@require_POST
def cart_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        cart, item = _cart_item(request, item_id)
        services.cart_item_remove(cart=cart, item_id=item.pk)
    except (Http404, CartItem.DoesNotExist):
        return _cart_refused(request, "This item is not in your cart.", status=404)
    return _cart_done(request, f"Removed {_item_name(item)} from your cart.")


@require_POST
def cart_clear(request: HttpRequest) -> HttpResponse:
    cart = _find_cart(request)
    if cart is not None:
        services.cart_clear(cart=cart)
    return _cart_done(request, "Your cart is empty now.")


# --- Checkout -----------------------------------------------------------------------------------


def _discount_preview(code_text: str, subtotal) -> tuple[DiscountCode | None, str]:
    """The code to show the totals with, or why it cannot be used. Only a preview: placing the
    order checks it again with the code's row locked (and the customer's own uses)."""
    if not code_text.strip():
        return None, ""
    try:
        return services.discount_preview(code_text=code_text, subtotal=subtotal), ""
    except DiscountInvalid as exc:
        return None, exc.message


def _checkout_initial(addresses: list, methods: list) -> dict:
    default = next((a for a in addresses if a.is_default), addresses[0] if addresses else None)
    return {
        "saved_address": str(default.pk) if default else NEW_ADDRESS,
        "shipping_method": str(methods[0].pk) if methods else "",
    }


def checkout(request: HttpRequest) -> HttpResponse:
    """GET shows the form; POST with action=apply re-prices (discount code, shipping method)
    without placing anything; any other POST places the order."""
    cart = _find_cart(request)
    items = selectors.cart_lines(cart) if cart is not None else []
    totals = services.cart_totals(cart, items=items) if cart is not None else pricing.price([])
    if request.method != "POST":
        if not totals.lines:
            messages.info(request, "Your cart is empty: add something to it first.")
            return redirect("orders:cart")
        if totals.problems:
            messages.warning(request, "Some items in your cart need your attention first.")
            return redirect("orders:cart")

    member = request.user.is_authenticated
    methods = list(ShippingMethod.objects.filter(is_active=True)) if totals.needs_shipping else []
    addresses = (
        list(account_selectors.address_list(user=request.user))
        if member and totals.needs_shipping
        else []
    )
    form_kwargs = {
        "user": request.user,
        "addresses": addresses,
        "methods": methods,
        "needs_shipping": totals.needs_shipping,
    }
    preview = request.method == "POST" and request.POST.get("action") == "apply"
    if request.method != "POST":
        form = CheckoutForm(initial=_checkout_initial(addresses, methods), **form_kwargs)
    elif preview:
        # Shown again as typed, without "required" errors on fields not filled in yet.
        typed = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "email")}
        if not member:
            typed["email"] = request.POST.get("email", "")
        form = CheckoutForm(initial=typed, **form_kwargs)
    else:
        form = CheckoutForm(request.POST, **form_kwargs)

    line_problems: dict[int, str] = {}
    status = 200
    if request.method == "POST" and not preview:
        order, status, line_problems = _place(request, cart, form)
        if order is not None:
            return _order_placed(request, order)

    chosen_method = _chosen_method(form, methods)
    code_text = _form_value(form, "discount_code")
    discount, discount_error = _discount_preview(code_text, totals.subtotal)
    if form.is_bound and form.errors.get("discount_code"):
        discount, discount_error = None, form.errors["discount_code"][0]
    if preview and discount_error:
        status = 400
    priced = pricing.price(totals.lines, shipping_method=chosen_method, discount=discount)
    context = {
        "form": form,
        "totals": priced,
        "rows": _rows(priced, line_problems),
        "methods": [
            (method, pricing.shipping_fee(method, totals.subtotal, totals.needs_shipping))
            for method in methods
        ],
        "chosen_method": chosen_method,
        "addresses": addresses,
        "chosen_address": _form_value(form, "saved_address"),
        "discount_error": discount_error,
        "discount_applied": discount is not None,
        "member": member,
        "cart_item_count": totals.item_count,
    }
    response = render(request, "orders/checkout.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _place(
    request: HttpRequest, cart: Cart | None, form: CheckoutForm
) -> tuple[Order | None, int, dict[int, str]]:
    """Place the order, or say why not: (None, status, problems of cart lines by item id), with
    the refusal put on the form or in a message."""
    if not form.is_valid():
        return None, 400, {}
    if cart is None:
        messages.error(request, "Your cart is empty.")
        return None, 400, {}
    member = request.user.is_authenticated
    try:
        order = services.order_place(
            cart=cart,
            email=request.user.email if member else form.cleaned_data["email"],
            user=request.user,
            shipping_address=form.shipping_address(),
            shipping_method=form.cleaned_data.get("shipping_method"),
            discount_code=form.cleaned_data.get("discount_code", ""),
            note=form.cleaned_data.get("note", ""),
        )
    except DiscountInvalid as exc:
        form.add_error("discount_code", exc.message)
        return None, exc.status_code, {}
    except CheckoutError as exc:
        messages.error(request, exc.message)
        for name, errors in exc.fields.items():
            field = name.removeprefix("shipping_address.")
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return None, exc.status_code, {line["item_id"]: line["message"] for line in exc.lines}
    return order, 302, {}


def _form_value(form: CheckoutForm, name: str) -> str:
    if name not in form.fields:
        return ""
    value = form[name].value()
    return "" if value is None else str(value)


def _chosen_method(form: CheckoutForm, methods: list[ShippingMethod]) -> ShippingMethod | None:
    wanted = _form_value(form, "shipping_method")
    return next((m for m in methods if str(m.pk) == wanted), None)


def _order_placed(request: HttpRequest, order: Order) -> HttpResponse:
    if order.is_guest:
        remember_guest_order(request, order)
    return redirect("orders:confirmation", number=order.number)


def remember_guest_order(request: HttpRequest, order: Order) -> None:
    """This browser placed (or opened the emailed link of) a guest order: it may show it."""
    placed = [n for n in request.session.get(GUEST_ORDERS_KEY, []) if n != order.number]
    request.session[GUEST_ORDERS_KEY] = [*placed, order.number][-GUEST_ORDERS_KEPT:]


def orders_for_request(request: HttpRequest) -> QuerySet[Order]:
    """The orders this browser may show: a member's own, or the guest orders of its session."""
    if request.user.is_authenticated:
        return selectors.orders_of(request.user)
    numbers = request.session.get(GUEST_ORDERS_KEY, [])
    return selectors.orders_with_details().filter(user__isnull=True, number__in=numbers)


# --- Orders -------------------------------------------------------------------------------------


def _with_image_urls(order: Order) -> Order:
    """Give each prefetched line the address of its picture (a storage name in the snapshot)."""
    for line in order.line_list:
        line.image_url = default_storage.url(line.image) if line.image else ""
    return order


def _order_with_lines(orders: QuerySet[Order], number: str) -> Order:
    order = get_object_or_404(orders, number=number)
    return _with_image_urls(order)


def confirmation(request: HttpRequest, number: str) -> HttpResponse:
    """The page after placing an order: for the member who placed it, or the guest's session."""
    order = _order_with_lines(orders_for_request(request), number)
    return render(request, "orders/confirmation.html", {"order": order})


def _member_orders(request: HttpRequest) -> QuerySet[Order]:
    return selectors.orders_of(request.user)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    # Grouped queries drop the model's default ordering: name it again.
    orders = (
        _member_orders(request)
        .annotate(item_count=Sum("lines__quantity"))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    page_range = (
        list(page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1))
        if page.paginator.num_pages > 1
        else []
    )
    return render(request, "orders/order_list.html", {"page_obj": page, "page_range": page_range})


@login_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_with_lines(_member_orders(request), number)
    return render(request, "orders/order_detail.html", {"order": order})


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(_member_orders(request), number=number)
    try:
        services.order_cancel_by_customer(order=order, user=request.user)
    except IllegalTransition:
        messages.error(
            request,
            f"Order {order.number} is {order.get_status_display().lower()}: "
            "it can no longer be cancelled here. Please contact us.",
        )
        order = _order_with_lines(_member_orders(request), number)
        return render(request, "orders/order_detail.html", {"order": order}, status=400)
    messages.success(request, f"Order {order.number} is cancelled.")
    return redirect("orders:detail", number=order.number)


def guest_order(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: confirms the guest's email the first time (while the link is fresh),
    then keeps showing the order."""
    order_id = tokens.guest_token_check(token)
    order = Order.objects.filter(pk=order_id).first() if order_id is not None else None
    if order is not None and order.email_verified_at is None:
        if tokens.guest_token_check(token, max_age=tokens.verify_max_age()) is None:
            order = None  # too old to confirm with
        else:
            order = services.order_guest_verify(token=token)
            messages.success(request, f"Email confirmed: thank you, {order.email}.")
    if order is None:
        return render(request, "orders/guest_link_invalid.html", status=404)
    remember_guest_order(request, order)
    order = _order_with_lines(selectors.orders_with_details().filter(pk=order.pk), order.number)
    return render(request, "orders/guest_order.html", {"order": order})
