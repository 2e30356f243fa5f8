from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts.models import Address, User


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0
    fields = [
        ("recipient", "phone"),
        "line1",
        "line2",
        ("city", "region", "postal_code"),
        "country",
        "is_default",
    ]


class StoreUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]


class StoreUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = StoreUserChangeForm
    add_form = StoreUserCreationForm
    inlines = [AddressInline]
    list_display = ["email", "full_name", "is_verified", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "is_verified", "date_joined"]
    search_fields = ["email", "full_name", "phone"]
    ordering = ["-date_joined"]
    readonly_fields = ["date_joined", "last_login", "deleted_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal details", {"fields": ["full_name", "phone", "is_verified"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["date_joined", "last_login", "deleted_at"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "password1", "password2"],
            },
        ),
    ]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["recipient", "user", "city", "postal_code", "country", "is_default"]
    list_filter = ["country", "is_default"]
    search_fields = ["recipient", "user__email", "line1", "city", "postal_code"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
