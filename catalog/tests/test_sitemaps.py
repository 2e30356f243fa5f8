import re

import pytest

from catalog.models import Product
from catalog.sitemaps import ProductSitemap
from catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def locations(response) -> list[str]:
    return re.findall(r"<loc>(.*?)</loc>", response.content.decode())


def test_index_points_at_each_section(client):
    ProductFactory()

    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    assert locations(response) == [
        "http://testserver/sitemap-products.xml",
        "http://testserver/sitemap-categories.xml",
    ]


def test_products_sitemap_lists_published_products_only_with_their_last_change(client):
    category = CategoryFactory(slug="bonsai")
    live = ProductFactory(slug="juniper", category=category)
    ProductFactory(slug="secret", status=Product.Status.DRAFT, category=category)
    ProductFactory(slug="gone", status=Product.Status.ARCHIVED, category=category)

    response = client.get("/sitemap-products.xml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert locations(response) == ["http://testserver/products/juniper/"]
    assert f"<lastmod>{live.updated_at.date().isoformat()}</lastmod>" in response.content.decode()


def test_categories_sitemap(client):
    CategoryFactory(slug="bonsai")
    CategoryFactory(slug="tools")

    response = client.get("/sitemap-categories.xml")

    assert sorted(locations(response)) == [
        "http://testserver/shop/bonsai/",
        "http://testserver/shop/tools/",
    ]


def test_a_long_section_is_split_into_pages(client, monkeypatch):
    monkeypatch.setattr(ProductSitemap, "limit", 2)
    for slug in ("a", "b", "c"):
        ProductFactory(slug=slug)

    index = client.get("/sitemap.xml")
    first = client.get("/sitemap-products.xml")
    second = client.get("/sitemap-products.xml", {"p": "2"})

    assert "http://testserver/sitemap-products.xml?p=2" in locations(index)
    assert len(locations(first)) == 2
    assert len(locations(second)) == 1
    assert client.get("/sitemap-products.xml", {"p": "3"}).status_code == 404
