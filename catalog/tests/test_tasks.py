"""The daily low-stock digest."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from catalog.models import Product
from catalog.tasks import send_low_stock_digest
from catalog.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_team():
    UserFactory(email="ops@example.com", is_staff=True)
    UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    UserFactory(email="former@example.com", is_staff=True, is_active=False)
    UserFactory(email="shopper@example.com")


@pytest.fixture
def low_and_fine_variants():
    maple = ProductFactory(name="Trident maple")
    VariantFactory(product=maple, sku="MAPLE-S", stock=0, low_stock_threshold=3)
    VariantFactory(product=maple, sku="MAPLE-L", stock=2, low_stock_threshold=3)
    VariantFactory(product=maple, sku="MAPLE-XL", stock=40, low_stock_threshold=3)
    VariantFactory(product=maple, sku="MAPLE-OLD", stock=0, is_active=False)
    VariantFactory(product=maple, sku="MAPLE-PDF", stock=0, track_inventory=False)
    archived = ProductFactory(status=Product.Status.ARCHIVED)
    VariantFactory(product=archived, sku="GONE-1", stock=0)


def test_digest_lists_low_variants_to_active_staff(staff_team, low_and_fine_variants):
    listed = send_low_stock_digest.delay().get()

    assert listed == 2
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert sorted(email.to) == ["boss@example.com", "ops@example.com"]
    assert "2 variants low on stock" in email.subject
    assert "MAPLE-S · Trident maple" in email.body
    assert "0 in stock (threshold 3)" in email.body
    assert "MAPLE-L · Trident maple" in email.body
    assert "2 in stock (threshold 3)" in email.body
    for not_low in ("MAPLE-XL", "MAPLE-OLD", "MAPLE-PDF", "GONE-1"):
        assert not_low not in email.body
    assert "/admin/catalog/productvariant/?stock=low" in email.body
    html = email.alternatives[0][0]
    assert "MAPLE-L" in html


def test_digest_goes_to_the_configured_addresses_instead(
    settings, staff_team, low_and_fine_variants
):
    settings.LOW_STOCK_EMAILS = ["stock@example.com"]

    send_low_stock_digest.delay()

    assert [email.to for email in mail.outbox] == [["stock@example.com"]]


def test_no_digest_when_nothing_is_low(staff_team):
    VariantFactory(stock=50, low_stock_threshold=5)

    listed = send_low_stock_digest.delay().get()

    assert listed == 0
    assert mail.outbox == []
