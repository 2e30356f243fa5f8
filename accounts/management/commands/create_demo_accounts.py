"""Create the demo staff and shopper accounts that the README names (idempotent)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Address, User

DEMO_ADMIN = ("admin@example.com", "admin-demo-pass", "Demo Admin")
DEMO_SHOPPER = ("shopper@example.com", "shopper-demo-pass", "Demo Shopper")


class Command(BaseCommand):
    help = "Create (or reset) the demo admin and shopper accounts."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        admin = self._upsert(*DEMO_ADMIN, is_staff=True, is_superuser=True)
        shopper = self._upsert(*DEMO_SHOPPER, is_staff=False, is_superuser=False)
        if not shopper.addresses.exists():
            Address.objects.create(
                user=shopper,
                recipient="Demo Shopper",
                phone="+44 20 7946 0958",
                line1="221B Baker Street",
                city="London",
                postal_code="NW1 6XE",
                country="GB",
                is_default=True,
            )
        for user, (_, password, _) in ((admin, DEMO_ADMIN), (shopper, DEMO_SHOPPER)):
            self.stdout.write(f"{user.email} / {password}")

    def _upsert(self, email: str, password: str, full_name: str, **flags) -> User:
        user, _ = User.objects.update_or_create(
            email=email,
            defaults={"full_name": full_name, "is_active": True, "is_verified": True, **flags},
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        return user
