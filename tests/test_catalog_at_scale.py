"""With 10,000 products, browsing costs the same number of queries as with a handful.

The demo catalogue is built with `seed_demo --products 10000` (bulk inserts, about half a minute),
then the busiest read paths are asked for their first and a deep page, filtered, searched and
sorted. The numbers are the ones pinned for small catalogues in catalog/tests (test_views.py and
test_api.py): if a path started to cost a query per product, these would fail.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from catalog.models import Category, Product

# Only on PostgreSQL, the production database, where the search index and planner are real.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LIST_PAGE_QUERIES = 3  # categories tree, count, products with their cards
API_LIST_QUERIES = 2  # count, products with their cards
# product with its card, variants, images, the category's parents (breadcrumbs)
PRODUCT_PAGE_QUERIES = 4


@pytest.fixture(scope="module")
def big_catalogue(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", products=10_000, pictures=4, seed=7, stdout=StringIO())
        yield
        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.parametrize(
    "query",
    ["", "?page=40", "?in_stock=true&ordering=price", "?kind=physical&min_price=10&max_price=80"],
)
def test_category_page(big_catalogue, client, django_assert_num_queries, query):
    assert Product.objects.count() == 10_000
    url = reverse("catalog:category", args=[_biggest_root_category().slug]) + query

    with django_assert_num_queries(LIST_PAGE_QUERIES):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) > 0


def test_search_page(big_catalogue, client, django_assert_num_queries):
    with django_assert_num_queries(LIST_PAGE_QUERIES):
        response = client.get(reverse("catalog:search") + "?q=juniper")
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count > 0


@pytest.mark.parametrize(
    ("query", "queries"),
    [
        ("", API_LIST_QUERIES),
        ("?page=300", API_LIST_QUERIES),
        ("?q=case&ordering=-price", API_LIST_QUERIES),
        ("?category=tools&in_stock=true", API_LIST_QUERIES),
        ("?page_size=100&ordering=name", API_LIST_QUERIES),
    ],
)
def test_api_product_list(big_catalogue, api_client, django_assert_num_queries, query, queries):
    with django_assert_num_queries(queries):
        response = api_client.get(reverse("api:product-list") + query)

    assert response.status_code == 200, response.content
    assert response.json()["results"]


def test_product_page(big_catalogue, client, django_assert_num_queries):
    product = Product.objects.filter(status=Product.Status.PUBLISHED).order_by("pk").last()

    with django_assert_num_queries(PRODUCT_PAGE_QUERIES):
        response = client.get(product.get_absolute_url())

    assert response.status_code == 200


def _biggest_root_category() -> Category:
    roots = Category.objects.filter(parent=None)
    return max(roots, key=lambda c: Product.objects.filter(category__parent=c).count())
