import pytest
from django.core.management import call_command

from downloads.models import Chapter, DigitalAsset
from downloads.tests.factories import digital_product

pytestmark = pytest.mark.django_db


def test_demo_downloads_are_attached_once(capsys):
    book = digital_product(name="Bonsai for beginners")
    other = digital_product(name="Wallpapers")

    call_command("seed_demo_downloads")
    call_command("seed_demo_downloads")

    assert sorted(DigitalAsset.objects.values_list("product_id", flat=True)) == [book.pk, other.pk]
    assert Chapter.objects.filter(product=book).count() == 4
    assert "<script" not in Chapter.objects.first().body_html
    assert capsys.readouterr().out.splitlines() == [
        "Demo files attached to 2 digital products.",
        "Demo files attached to 0 digital products.",
    ]
