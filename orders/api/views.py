"""Cart, checkout and order endpoints under /api/v1/. Thin: services do the work, serializers
shape it.

Anonymous clients name their cart with the `X-Session-ID` request header (the cart's token,
returned in the response header of the same name); members use their own cart, and a member
request that still carries an anonymous cart's token merges that cart into theirs.
"""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.models import Address
from config.api_support.errors import error_body
from orders import selectors, services, tokens
from orders.api import serializers as s
from orders.exceptions import CheckoutError
from orders.models import Cart, CartItem, Order, ShippingMethod

CART_HEADER = services.CART_HEADER

SESSION_ID = OpenApiParameter(
    name=CART_HEADER,
    type=OpenApiTypes.UUID,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "The anonymous cart's token, as returned in the `X-Session-ID` response header. "
        "Without it (or with an unknown one) a new cart is started. A member who sends it has "
        "that cart merged into their own."
    ),
)


def _session_id_out(status_code: int) -> OpenApiParameter:
    return OpenApiParameter(
        name=CART_HEADER,
        type=OpenApiTypes.UUID,
        location=OpenApiParameter.HEADER,
        response=[status_code],
        description="The anonymous cart's token: store it and send it back. Not set for members.",
    )


ITEM_ID = OpenApiParameter(
    "item_id", int, OpenApiParameter.PATH, description="A line of the cart (its `id`)."
)
ORDER_NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="The order number, like `K7M4-P2XQ`."
)
CART_ERRORS = OpenApiResponse(
    description="`unavailable`, `insufficient_stock`, `quantity_too_large` or `invalid`, with "
    "field messages."
)
CHECKOUT_ERRORS = {
    400: OpenApiResponse(
        s.CheckoutErrorOutput,
        description="Invalid input, an empty cart, a missing address or shipping method, or a "
        "discount code that cannot be used (`discount_*`, field `discount_code`).",
    ),
    409: OpenApiResponse(
        s.CheckoutErrorOutput,
        description="`cart_has_problems` or `insufficient_stock`: `error.lines` names each "
        "line at fault and how many can be bought.",
    ),
}


def _validated(serializer_class, request: Request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _order_output(request: Request, order: Order, output=s.OrderOutput) -> dict:
    """An order with its lines and history loaded: by `selectors.orders_with_details`, or as
    `order_place` returns it."""
    return output(order, context={"request": request}).data


def _order_data(request: Request, order: Order, output=s.OrderOutput) -> dict:
    """An order read again, with its lines and history (after a change to it)."""
    return _order_output(request, selectors.orders_with_details().get(pk=order.pk), output)


class IsStaff(BasePermission):
    message = "Only staff can change the status of an order."

    def has_permission(self, request: Request, view) -> bool:
        return bool(request.user and request.user.is_staff)


# --- Cart ---------------------------------------------------------------------------------------


class CartMixin:
    """Finds the request's cart and answers with it, priced and checked now."""

    def _cart(self, request: Request) -> Cart:
        return services.cart_get_or_create(
            user=request.user, token=request.headers.get(CART_HEADER)
        )

    def _cart_response(
        self, request: Request, cart: Cart, status_code: int = status.HTTP_200_OK
    ) -> Response:
        priced = s.PricedCart(cart, services.cart_totals(cart))
        response = Response(s.CartOutput(priced, context={"request": request}).data, status_code)
        if cart.user_id is None:
            response[CART_HEADER] = str(cart.token)
        return response


@extend_schema(tags=["cart"], parameters=[SESSION_ID])
class CartView(CartMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The cart, priced and checked now (a new anonymous cart when there is none)",
        parameters=[_session_id_out(200)],
        responses=s.CartOutput,
    )
    def get(self, request: Request) -> Response:
        return self._cart_response(request, self._cart(request))

    @extend_schema(summary="Empty the cart", responses={204: None})
    def delete(self, request: Request) -> Response:
        services.cart_clear(cart=self._cart(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["cart"], parameters=[SESSION_ID])
class CartItemsView(CartMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Add a variant to the cart (or more of it to its line)",
        request=s.CartItemAddInput,
        parameters=[_session_id_out(201)],
        responses={201: s.CartOutput, 400: CART_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.CartItemAddInput, request)
        cart = self._cart(request)
        services.cart_item_add(cart=cart, variant_id=data["variant"], quantity=data["quantity"])
        return self._cart_response(request, cart, status.HTTP_201_CREATED)


@extend_schema(tags=["cart"], parameters=[SESSION_ID, ITEM_ID])
class CartItemView(CartMixin, APIView):
    """One line of the request's cart; a line of another cart is a 404."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Change the quantity of a cart line; 0 removes it",
        request=s.CartItemUpdateInput,
        parameters=[_session_id_out(200)],
        responses={200: s.CartOutput, 400: CART_ERRORS},
    )
    def patch(self, request: Request, item_id: int) -> Response:
        data = _validated(s.CartItemUpdateInput, request)
        cart = self._cart(request)
        try:
            services.cart_item_update(cart=cart, item_id=item_id, quantity=data["quantity"])
        except CartItem.DoesNotExist as exc:
            raise Http404 from exc
        return self._cart_response(request, cart)

    @extend_schema(summary="Remove a line from the cart", responses={204: None})
    def delete(self, request: Request, item_id: int) -> Response:
        try:
            services.cart_item_remove(cart=self._cart(request), item_id=item_id)
        except CartItem.DoesNotExist as exc:
            raise Http404 from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Checkout -----------------------------------------------------------------------------------


def _checkout_error(exc: CheckoutError) -> Response:
    """The usual error shape, plus the cart lines at fault so apps can point at them."""
    body = error_body(exc.code, exc.message, exc.fields)
    body["error"]["lines"] = exc.lines
    return Response(body, status=exc.status_code)


def _saved_address(user, address_id: int) -> dict:
    address = account_selectors.address_list(user=user).filter(pk=address_id).first()
    if address is None:
        raise ValidationError({"address_id": ["You have no saved address with this id."]})
    return _address_fields(address)


def _address_fields(address: Address) -> dict:
    return {
        "recipient": address.recipient,
        "phone": address.phone,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "region": address.region,
        "postal_code": address.postal_code,
        "country": address.country.code,
    }


@extend_schema(tags=["checkout"])
class CheckoutView(CartMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Place an order from the member's cart (stock is held until payment)",
        description=(
            "Send a `shipping_address` or the `address_id` of a saved address, and a "
            "`shipping_method`, unless every line is a download. The order waits for payment "
            "until `expires_at`; the cart is emptied."
        ),
        parameters=[SESSION_ID],
        request=s.CheckoutInput,
        responses={201: s.OrderOutput, **CHECKOUT_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.CheckoutInput, request)
        address = data.get("shipping_address")
        if "address_id" in data:
            address = _saved_address(request.user, data["address_id"])
        try:
            order = services.order_place(
                cart=self._cart(request),
                email=request.user.email,
                user=request.user,
                shipping_address=address,
                shipping_method=data.get("shipping_method"),
                discount_code=data["discount_code"],
                note=data["note"],
            )
        except CheckoutError as exc:
            return _checkout_error(exc)
        return Response(_order_output(request, order), status=status.HTTP_201_CREATED)


class GuestView(APIView):
    """Guests have no account: their requests are anonymous whatever they carry."""

    permission_classes = [AllowAny]
    authentication_classes: list = []


@extend_schema(tags=["checkout"])
class GuestCheckoutView(GuestView):
    @extend_schema(
        summary="Place an order as a guest; a code and a link are emailed to confirm it",
        description=(
            "The cart is the one named by `X-Session-ID`. The order can be paid once the email "
            "is confirmed with guest/verify; until then only a summary is returned."
        ),
        parameters=[SESSION_ID],
        request=s.GuestCheckoutInput,
        responses={201: s.GuestCheckoutOutput, **CHECKOUT_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.GuestCheckoutInput, request)
        cart = services.cart_get_or_create(token=request.headers.get(CART_HEADER))
        try:
            order = services.order_place(
                cart=cart,
                email=data["email"],
                shipping_address=data.get("shipping_address"),
                shipping_method=data.get("shipping_method"),
                discount_code=data["discount_code"],
                note=data["note"],
            )
        except CheckoutError as exc:
            return _checkout_error(exc)
        body = {
            "order": _order_output(request, order, s.OrderSummaryOutput),
            "verification": "sent",
        }
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["checkout"])
class GuestVerifyView(GuestView):
    # A six-digit code must not be guessable by trying them all.
    throttle_scope = "auth"

    @extend_schema(
        summary="Confirm a guest's email with the emailed code (or link token)",
        request=s.GuestVerifyInput,
        responses={
            200: s.GuestVerifyOutput,
            400: OpenApiResponse(description="`verification_failed`: wrong or expired."),
            429: OpenApiResponse(description="Too many attempts: wait and try again."),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.GuestVerifyInput, request)
        order = services.order_guest_verify(
            token=data.get("token", ""), number=data.get("number", ""), code=data.get("code", "")
        )
        body = {"order": _order_data(request, order), "access_token": tokens.guest_token(order)}
        return Response(body)


@extend_schema(tags=["orders"])
class GuestOrderView(GuestView):
    @extend_schema(
        summary="A guest's order, by the access token that guest/verify returned",
        parameters=[
            OpenApiParameter("token", str, OpenApiParameter.PATH, description="The `access_token`.")
        ],
        responses={200: s.OrderOutput, 404: OpenApiResponse(description="Unknown token.")},
    )
    def get(self, request: Request, token: str) -> Response:
        order_id = tokens.guest_token_check(token)
        if order_id is None:
            raise Http404
        order = selectors.orders_with_details().get(pk=order_id)
        return Response(s.OrderOutput(order, context={"request": request}).data)


# --- Orders -------------------------------------------------------------------------------------


@extend_schema(tags=["orders"])
class OrderViewSet(viewsets.GenericViewSet):
    """A member's orders, by order number (like `K7M4-P2XQ`). Staff may read and move any order;
    anybody else's order is a 404."""

    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["status"]
    lookup_field = "number"
    lookup_value_regex = r"[A-Za-z0-9-]{1,20}"
    queryset = Order.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        orders = selectors.orders_with_details()
        if self.request.user.is_staff and self.action in ("retrieve", "set_status"):
            return orders
        return orders.filter(user=self.request.user)

    def get_object(self) -> Order:
        number = self.kwargs[self.lookup_field].upper()
        return get_object_or_404(self.get_queryset(), number=number)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _output(self, order: Order) -> dict:
        return s.OrderOutput(order, context={"request": self.request}).data

    @extend_schema(
        summary="The signed-in member's orders, newest first", responses=s.OrderOutput(many=True)
    )
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            s.OrderOutput(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        summary="An order by its number", parameters=[ORDER_NUMBER], responses=s.OrderOutput
    )
    def retrieve(self, request: Request, number: str) -> Response:
        return Response(self._output(self.get_object()))

    @extend_schema(
        summary="Cancel an order that is not paid yet; its stock goes back on sale",
        parameters=[ORDER_NUMBER],
        request=None,
        responses={
            200: s.OrderOutput,
            400: OpenApiResponse(description="`illegal_transition`: already paid or cancelled."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        order = self.get_object()
        services.order_cancel_by_customer(order=order, user=request.user)
        return Response(_order_data(request, order))

    @extend_schema(
        summary="Move an order to another status (staff)",
        description="Shipping needs a `tracking_number`. Moves the status table does not allow "
        "are refused with `illegal_transition`.",
        parameters=[ORDER_NUMBER],
        request=s.OrderStatusInput,
        responses={
            200: s.OrderOutput,
            400: OpenApiResponse(description="`illegal_transition` or `tracking_number_required`."),
            403: OpenApiResponse(description="Not staff."),
        },
    )
    @action(
        detail=True,
        methods=["patch"],
        url_path="status",
        url_name="status",
        permission_classes=[IsStaff],
    )
    def set_status(self, request: Request, number: str) -> Response:
        order = self.get_object()
        data = _validated(s.OrderStatusInput, request)
        services.order_transition(
            order=order,
            to=data["status"],
            user=request.user,
            note=data["note"],
            tracking_number=data["tracking_number"],
            carrier=data["carrier"],
        )
        return Response(_order_data(request, order))


@extend_schema(tags=["checkout"])
class ShippingMethodViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The shipping methods on offer, cheapest first within their display order."""

    permission_classes = [AllowAny]
    filter_backends: list = []
    serializer_class = s.ShippingMethodOutput
    queryset = ShippingMethod.objects.filter(is_active=True)

    @extend_schema(summary="Shipping methods a checkout may choose from")
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)
