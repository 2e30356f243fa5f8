"""Payment and refund endpoints under /api/v1/. Thin: services do the work.

Members are known by their JWT; a guest proves access to their order with the `access_token`
from guest/verify. A payment, order or refund of somebody else is a 404.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import Order
from payments import providers, selectors, services
from payments.api import serializers as s
from payments.models import Payment, Refund

ACCESS_TOKEN = OpenApiParameter(
    "access_token", OpenApiTypes.STR, OpenApiParameter.QUERY, description=s.ACCESS_TOKEN_HELP
)
NOT_FOUND = OpenApiResponse(description="No such order or payment, or not yours.")


def _validated(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _identified(request: Request, access_token: str) -> str:
    """A member, or a guest with a token: anybody else is told to sign in (401)."""
    if not request.user.is_authenticated and not access_token:
        raise NotAuthenticated("Sign in, or send the access_token of your guest order.")
    return access_token


def _own_order(request: Request, number: str, access_token: str) -> Order:
    """The requester's order: their own, or the guest order their token names."""
    _identified(request, access_token)
    scope = selectors.orders_scope(user=request.user, guest_token=access_token, prefix="")
    return get_object_or_404(Order.objects.filter(scope), number=number.strip().upper())


def _payment_data(payment: Payment) -> dict:
    return s.PaymentOutput(payment).data


@extend_schema(tags=["payments"])
class CreateIntentView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Start paying an order: a Stripe PaymentIntent (or a manual payment)",
        description=(
            "The amount and currency are the order's. Asking again for the same order and "
            "provider returns the same open payment and PaymentIntent. With Stripe, finish on "
            "the client with the `client_secret` and `publishable_key` (Payment Element, "
            "PaymentSheet), or server-side with payments/confirm. The order becomes paid when "
            "Stripe reports the payment (webhook); poll GET payments/{id} or the order."
        ),
        request=s.CreateIntentInput,
        responses={
            201: s.CreateIntentOutput,
            400: OpenApiResponse(description="`provider_unavailable`, or invalid input."),
            401: OpenApiResponse(description="Neither signed in nor a guest access_token."),
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="`order_not_payable`, `email_not_verified` or `payment_processing`."
            ),
            502: OpenApiResponse(description="`gateway_error`: Stripe could not be reached."),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.CreateIntentInput, request)
        order = _own_order(request, data["order"], data["access_token"])
        payment, started = services.payment_start(
            order=order, provider_code=data["provider"], user=request.user
        )
        config = providers.get(payment.provider).client_config()
        body = {
            "payment": _payment_data(payment),
            "client_secret": started.client_secret,
            "publishable_key": config.get("publishable_key", ""),
            "instructions": started.extra.get("instructions", ""),
        }
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["payments"])
class ConfirmView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Confirm a card payment server-side with a PaymentMethod id",
        description=(
            "For clients that collect the card themselves. A declined card answers 402 "
            "`card_declined` with a message for the shopper; the order stays payable."
        ),
        request=s.ConfirmInput,
        responses={
            200: s.PaymentOutput,
            400: OpenApiResponse(description="`payment_not_open` or invalid input."),
            402: OpenApiResponse(description="`card_declined`: the message says why."),
            404: NOT_FOUND,
            409: OpenApiResponse(description="`order_not_payable`."),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.ConfirmInput, request)
        payments = selectors.payments_of(user=request.user, guest_token=data["access_token"])
        payment = get_object_or_404(payments, pk=data["payment"])
        payment = services.payment_confirm(payment=payment, payment_method=data["payment_method"])
        return Response(_payment_data(payment))


@extend_schema(tags=["payments"])
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments of the requester's orders, newest first."""

    permission_classes = [AllowAny]
    serializer_class = s.PaymentOutput
    filter_backends: list = []
    lookup_value_regex = r"\d+"
    queryset = Payment.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self) -> QuerySet[Payment]:
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        token = _identified(self.request, self.request.query_params.get("access_token", ""))
        payments = selectors.payments_of(user=self.request.user, guest_token=token)
        if self.action == "list" and self.request.user.is_staff:
            payments = payments.filter(order__user=self.request.user)  # staff use the admin
        return payments

    @extend_schema(summary="Your payments", parameters=[ACCESS_TOKEN])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="A payment: poll it after paying",
        parameters=[ACCESS_TOKEN],
        responses={200: s.PaymentOutput, 404: NOT_FOUND},
    )
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)


@extend_schema(tags=["refunds"])
class RefundRequestView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Ask for a refund of a paid order (all of it, or some lines)",
        description="Members are known by their JWT; guests send their `access_token`.",
        parameters=[
            OpenApiParameter("number", str, OpenApiParameter.PATH, description="Order number.")
        ],
        request=s.RefundRequestInput,
        responses={
            201: s.RefundOutput,
            400: OpenApiResponse(description="Invalid input; `lines` names each line at fault."),
            401: OpenApiResponse(description="Neither signed in nor a guest access_token."),
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="`order_not_refundable`, `refund_already_requested` or "
                "`nothing_to_refund`."
            ),
        },
    )
    def post(self, request: Request, number: str) -> Response:
        data = _validated(s.RefundRequestInput, request)
        order = _own_order(request, number, data["access_token"])
        refund = services.refund_request(
            order=order, user=request.user, reason=data["reason"], lines=data["lines"]
        )
        refund = selectors.refunds_with_lines().get(pk=refund.pk)
        return Response(s.RefundOutput(refund).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["refunds"])
class RefundViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The requester's refunds (requested, refunded, rejected), newest first: a member's, or
    those of the guest order named by `access_token`."""

    permission_classes = [AllowAny]
    serializer_class = s.RefundOutput
    filter_backends: list = []
    queryset = Refund.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Refund.objects.none()
        token = _identified(self.request, self.request.query_params.get("access_token", ""))
        return selectors.refunds_of(user=self.request.user, guest_token=token)

    @extend_schema(summary="Your refunds", parameters=[ACCESS_TOKEN])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)
