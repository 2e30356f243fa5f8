from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter(trailing_slash=False)
router.register("users/me/addresses", views.AddressViewSet, basename="address")

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/verify-email", views.EmailVerifyView.as_view(), name="auth-verify-email"),
    path(
        "auth/verify-email/resend",
        views.EmailVerifyResendView.as_view(),
        name="auth-verify-email-resend",
    ),
    path("auth/password-reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("users/me", views.MeView.as_view(), name="users-me"),
    path("users/me/password", views.PasswordChangeView.as_view(), name="users-me-password"),
    *router.urls,
]
