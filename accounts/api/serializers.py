from django.contrib.auth import password_validation
from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from accounts.models import Address, User, phone_validator


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )


class LoginInput(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    remember_me = serializers.BooleanField(
        default=False, help_text="Long-lived refresh token (days) instead of a short one."
    )


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField()


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "phone", "is_verified", "is_staff", "date_joined"]
        read_only_fields = fields


class AuthOutput(TokenPairOutput):
    user = UserOutput()


class UserUpdateInput(serializers.Serializer):
    email = serializers.EmailField(required=False)
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )


class PasswordInput(serializers.Serializer):
    password = serializers.CharField(
        write_only=True, help_text="The current password, to confirm it is the owner."
    )

    def validate_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("The password is not correct.")
        return value


class PasswordChangeInput(serializers.Serializer):
    old_password = serializers.CharField(write_only=True)
    new_password = serializers.CharField(write_only=True)

    def validate_old_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("The current password is not correct.")
        return value

    def validate_new_password(self, value: str) -> str:
        password_validation.validate_password(value, self.context["request"].user)
        return value


class EmailVerifyInput(serializers.Serializer):
    token = serializers.CharField(help_text="The token from the verification link.")


class PasswordResetInput(serializers.Serializer):
    email = serializers.EmailField()


class PasswordResetConfirmInput(serializers.Serializer):
    uid = serializers.CharField(help_text="The `uid` part of the reset link.")
    token = serializers.CharField(help_text="The `token` part of the reset link.")
    new_password = serializers.CharField(write_only=True)


class AddressSerializer(serializers.ModelSerializer):
    """Addresses are plain data: one serializer reads and writes them."""

    country = CountryField()

    class Meta:
        model = Address
        fields = [
            "id",
            "recipient",
            "phone",
            "line1",
            "line2",
            "city",
            "region",
            "postal_code",
            "country",
            "is_default",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
