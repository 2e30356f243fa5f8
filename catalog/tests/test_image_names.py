"""Generated pictures keep the names imagekit gives them, computed once per spec and source."""

from imagekit.cachefiles import namers

from catalog import image_names
from catalog.models import ProductImage


def test_names_are_imagekits_own_per_field_and_source(monkeypatch):
    monkeypatch.setattr(image_names, "_names", {})
    first, second = ProductImage(image="products/a.jpg"), ProductImage(image="products/b.png")
    specs = [image.thumbnail for image in (first, second)] + [first.large, second.large]

    names = [spec.name for spec in specs]

    assert names == [namers.source_name_as_path(spec.generator) for spec in specs]
    assert len(set(names)) == 4
    assert len(image_names._names) == 4


def test_remembered_names_are_bounded(monkeypatch):
    monkeypatch.setattr(image_names, "_names", {})
    monkeypatch.setattr(image_names, "MAX_REMEMBERED", 3)

    names = [ProductImage(image=f"products/{n}.jpg").thumbnail.name for n in range(5)]

    assert len(set(names)) == 5
    assert len(image_names._names) == 2  # dropped when it reached 3, then two more
