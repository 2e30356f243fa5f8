"""A new store starts with two shipping methods that staff can change or switch off."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations

DEFAULTS = [
    {
        "code": "standard",
        "name": "Standard delivery",
        "description": "3–5 working days, tracked.",
        "fee": Decimal("4.90"),
        "free_above": Decimal("60.00"),
        "position": 0,
    },
    {
        "code": "express",
        "name": "Express delivery",
        "description": "Next working day when ordered before 2 pm, tracked.",
        "fee": Decimal("9.90"),
        "free_above": None,
        "position": 1,
    },
]


def add_defaults(apps, schema_editor):
    ShippingMethod = apps.get_model("orders", "ShippingMethod")
    if ShippingMethod.objects.exists():
        return
    for fields in DEFAULTS:
        ShippingMethod.objects.create(currency=settings.STORE_CURRENCY, **fields)


def remove_defaults(apps, schema_editor):
    ShippingMethod = apps.get_model("orders", "ShippingMethod")
    ShippingMethod.objects.filter(code__in=[d["code"] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
