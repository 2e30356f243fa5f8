"""Account pages. Thin: forms validate input, services do the work."""

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.exceptions import InvalidToken
from accounts.forms import (
    AccountDeleteForm,
    AddressForm,
    LoginForm,
    PasswordResetRequestForm,
    ProfileForm,
    RegisterForm,
)
from accounts.models import User
from config.exceptions import ApplicationError


def _add_service_errors(form, exc: ApplicationError | ValidationError) -> None:
    """Show a service's refusal next to the fields it concerns."""
    if isinstance(exc, ApplicationError):
        fields = exc.fields or {None: [exc.message]}
    else:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, errors in fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        response = super().form_valid(form)
        if not form.cleaned_data.get("remember_me"):
            self.request.session.set_expiry(0)  # ends when the browser closes
        return response


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                full_name=form.cleaned_data["full_name"],
            )
        except (ApplicationError, ValidationError) as exc:
            _add_service_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome! We sent a link to {user.email}: open it to verify your address.",
            )
            return redirect("accounts:profile")
    return render(request, "accounts/register.html", {"form": form})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.email_verify(token=token)
    except InvalidToken as exc:
        return render(request, "accounts/verify_failed.html", {"message": exc.message}, status=400)
    messages.success(request, f"Thank you: {user.email} is verified.")
    return redirect("accounts:profile" if request.user.is_authenticated else "accounts:login")


@login_required
@require_POST
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    if not request.user.is_verified:
        services.email_verification_send(user=request.user)
        messages.info(request, f"We sent a new verification link to {request.user.email}.")
    return redirect("accounts:profile")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    # The form validates against a copy: binding it to request.user would change the signed-in
    # user in place, so the service would see nothing to save (and the header would show unsaved
    # values after a refused change).
    form = ProfileForm(request.POST or None, instance=User.objects.get(pk=request.user.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(user=request.user, data=form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, "Your details are saved.")
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form) -> HttpResponse:
        services.user_change_password(
            user=self.request.user, new_password=form.cleaned_data["new_password1"]
        )
        # Keep this browser signed in; other sessions end because the password hash changed.
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, "Your password is changed.")
        return redirect(self.get_success_url())


def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        return redirect("accounts:password-reset-done")
    return render(request, "accounts/password_reset.html", {"form": form})


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form) -> HttpResponse:
        services.user_change_password(
            user=form.user, new_password=form.cleaned_data["new_password1"]
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return redirect(self.success_url)


@login_required
def address_list(request: HttpRequest) -> HttpResponse:
    addresses = selectors.address_list(user=request.user)
    return render(request, "accounts/address_list.html", {"addresses": addresses})


@login_required
def address_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    address = get_object_or_404(selectors.address_list(user=request.user), pk=pk) if pk else None
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_save(user=request.user, data=form.cleaned_data, address=address)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, "The address is saved.")
            return redirect("accounts:addresses")
    return render(request, "accounts/address_form.html", {"form": form, "address": address})


@login_required
@require_POST
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_object_or_404(selectors.address_list(user=request.user), pk=pk)
    services.address_delete(address=address)
    messages.success(request, "The address is deleted.")
    return redirect("accounts:addresses")


@login_required
@require_POST
def address_make_default(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_object_or_404(selectors.address_list(user=request.user), pk=pk)
    services.address_save(user=request.user, data={"is_default": True}, address=address)
    messages.success(request, "This is now your default address.")
    return redirect("accounts:addresses")


@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_delete(user=request.user)
        logout(request)
        messages.success(request, "Your account is closed and your personal data erased.")
        return redirect("home")
    return render(request, "accounts/account_delete.html", {"form": form})
