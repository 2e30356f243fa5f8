"""Auth and profile endpoints under /api/v1/. Thin: they validate input and call services."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import jwt, selectors, services
from accounts.api import serializers as s
from accounts.models import Address


def _validated(serializer_class, request: Request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class AuthView(APIView):
    """Anonymous auth endpoints share the strict "auth" throttle."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "auth"


class RegisterView(AuthView):
    @extend_schema(
        request=s.RegisterInput,
        responses={201: s.AuthOutput},
        summary="Create an account; a verification link is emailed",
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.RegisterInput, request)
        user = services.user_register(**data)
        tokens = jwt.tokens_for_user(user=user)
        return Response({**tokens, "user": s.UserOutput(user).data}, status=status.HTTP_201_CREATED)


class LoginView(AuthView):
    @extend_schema(
        request=s.LoginInput,
        responses={200: s.AuthOutput, 401: OpenApiResponse(description="Wrong credentials")},
        summary="Sign in with email and password; returns access and refresh tokens",
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.LoginInput, request)
        # django-axes follows the Django request, not DRF's wrapper.
        user = services.user_authenticate(
            request=request._request, email=data["email"], password=data["password"]
        )
        tokens = jwt.tokens_for_user(user=user, remember_me=data["remember_me"])
        return Response({**tokens, "user": s.UserOutput(user).data})


class RefreshView(AuthView):
    throttle_scope = "general"

    @extend_schema(
        request=s.RefreshInput,
        responses={200: s.TokenPairOutput},
        summary="Rotate a refresh token: a new pair; the old refresh token is revoked",
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.RefreshInput, request)
        return Response(jwt.token_refresh(refresh=data["refresh"]))


class LogoutView(AuthView):
    throttle_scope = "general"

    @extend_schema(request=s.RefreshInput, responses={204: None}, summary="Revoke a refresh token")
    def post(self, request: Request) -> Response:
        data = _validated(s.RefreshInput, request)
        jwt.token_revoke(refresh=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyView(AuthView):
    @extend_schema(
        request=s.EmailVerifyInput,
        responses={200: s.UserOutput},
        summary="Verify an email address with the token from the emailed link",
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.EmailVerifyInput, request)
        user = services.email_verify(token=data["token"])
        return Response(s.UserOutput(user).data)


class EmailVerifyResendView(APIView):
    throttle_scope = "auth"

    @extend_schema(request=None, responses={202: None}, summary="Email a new verification link")
    def post(self, request: Request) -> Response:
        if not request.user.is_verified:
            services.email_verification_send(user=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetView(AuthView):
    @extend_schema(
        request=s.PasswordResetInput,
        responses={202: None},
        summary="Email a password reset link (answers the same whether the account exists or not)",
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.PasswordResetInput, request)
        services.password_reset_request(email=data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(AuthView):
    @extend_schema(
        request=s.PasswordResetConfirmInput,
        responses={204: None},
        summary="Set a new password with the uid and token from the reset link",
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.PasswordResetConfirmInput, request)
        services.password_reset_confirm(
            uidb64=data["uid"], token=data["token"], new_password=data["new_password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.UserOutput}, summary="The signed-in user")
    def get(self, request: Request) -> Response:
        return Response(s.UserOutput(request.user).data)

    @extend_schema(
        request=s.UserUpdateInput,
        responses={200: s.UserOutput},
        summary="Change name, phone or email (a new email must be verified again)",
    )
    def patch(self, request: Request) -> Response:
        data = _validated(s.UserUpdateInput, request)
        user = services.user_update(user=request.user, data=data)
        return Response(s.UserOutput(user).data)

    @extend_schema(
        request=s.PasswordInput,
        responses={204: None},
        summary="Close the account: personal data is erased, orders are kept",
    )
    def delete(self, request: Request) -> Response:
        _validated(s.PasswordInput, request)
        services.user_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    @extend_schema(
        request=s.PasswordChangeInput,
        responses={200: s.TokenPairOutput},
        summary="Change the password; other sessions are signed out, new tokens are returned",
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.PasswordChangeInput, request)
        services.user_change_password(user=request.user, new_password=data["new_password"])
        return Response(jwt.tokens_for_user(user=request.user))


@extend_schema(tags=["addresses"])
class AddressViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The signed-in user's address book. Another user's address is a 404."""

    serializer_class = s.AddressSerializer
    permission_classes = [IsAuthenticated]
    ordering_fields = ["created_at", "city"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Address.objects.none()
        return selectors.address_list(user=self.request.user)

    def perform_create(self, serializer) -> None:
        serializer.instance = services.address_save(
            user=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = services.address_save(
            user=self.request.user, data=serializer.validated_data, address=serializer.instance
        )

    def perform_destroy(self, instance: Address) -> None:
        services.address_delete(address=instance)
