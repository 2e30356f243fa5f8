"""The catalogue API: browsing for everyone, writes and stock for staff."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import jwt
from accounts.tests.test_api_auth import assert_error
from catalog import services
from catalog.api import serializers as api_serializers
from catalog.models import Category, Product, ProductModel3D, ProductVariant, StockMovement
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    TagFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("api:product-list")
CATEGORIES = reverse("api:category-list")
Status = Product.Status


def product_url(pk: int) -> str:
    return reverse("api:product-detail", args=[pk])


def slug_url(slug: str) -> str:
    return reverse("api:product-by-slug", args=[slug])


def variants_url(product_pk: int) -> str:
    return reverse("api:product-variants", args=[product_pk])


def variant_url(pk: int) -> str:
    return reverse("api:variant-detail", args=[pk])


def stock_url(pk: int) -> str:
    return reverse("api:variant-stock", args=[pk])


def movements_url(pk: int) -> str:
    return reverse("api:variant-stock-movements", args=[pk])


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt.tokens_for_user(user=user)['access']}")
    return client


def listed(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


# --- Product list: shape -------------------------------------------------------------------------
def test_list_shows_a_product_card(api_client):
    category = CategoryFactory(name="Bonsai", slug="bonsai")
    product = ProductFactory(
        name="Juniper", slug="juniper", category=category, tags=["outdoor"], is_featured=True
    )
    VariantFactory(product=product, price=Decimal("80.00"), stock=3, position=0)
    VariantFactory(
        product=product,
        price=Decimal("45.50"),
        compare_at_price=Decimal("60.00"),
        stock=8,
        position=1,
    )
    VariantFactory(product=product, price=Decimal("5.00"), is_active=False)
    image = ProductImageFactory(product=product)

    response = api_client.get(PRODUCTS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": product.pk,
            "name": "Juniper",
            "slug": "juniper",
            "kind": "physical",
            "category": {"id": category.pk, "name": "Bonsai", "slug": "bonsai"},
            "tags": ["outdoor"],
            "is_featured": True,
            "price": "45.50",
            "price_max": "80.00",
            "compare_at_price": "60.00",
            "currency": "EUR",
            "in_stock": True,
            "stock_state": "in_stock",
            "thumbnail": f"http://testserver{image.thumbnail.url}",
            "url": "http://testserver/products/juniper/",
        }
    ]
    assert body["results"][0]["thumbnail"].endswith(".webp")


@pytest.mark.parametrize(
    ("variants", "in_stock", "stock_state"),
    [
        ([{"stock": 0}, {"stock": 0}], False, "sold_out"),
        ([{"stock": 0}, {"stock": 2}], True, "low"),
        ([{"stock": 2}, {"stock": 50}], True, "in_stock"),
        ([{"stock": 0, "track_inventory": False}], True, "in_stock"),
        ([{"stock": 50, "is_active": False}], False, "sold_out"),
    ],
)
def test_list_stock_state(api_client, variants, in_stock, stock_state):
    product = ProductFactory()
    for fields in variants:
        VariantFactory(product=product, **fields)

    row = api_client.get(PRODUCTS).json()["results"][0]

    assert (row["in_stock"], row["stock_state"]) == (in_stock, stock_state)


def test_list_product_without_active_variants_has_no_price(api_client):
    ProductFactory(category=None)

    row = api_client.get(PRODUCTS).json()["results"][0]

    assert (row["price"], row["price_max"], row["compare_at_price"]) == (None, None, None)
    assert (row["category"], row["thumbnail"], row["tags"]) == (None, None, [])


def test_list_compare_at_price_only_when_the_cheapest_variant_is_on_sale(api_client):
    product = ProductFactory()
    VariantFactory(product=product, price=Decimal("10.00"), compare_at_price=Decimal("9.00"))
    VariantFactory(product=product, price=Decimal("20.00"), compare_at_price=Decimal("30.00"))

    row = api_client.get(PRODUCTS).json()["results"][0]

    assert (row["price"], row["compare_at_price"]) == ("10.00", None)


# --- Product list: query counts ------------------------------------------------------------------
def _shelf(count: int) -> None:
    tags = [TagFactory(name="indoor"), TagFactory(name="gift")]
    for _ in range(count):
        product = ProductFactory(variants=2)
        product.tags.set(tags)
        ProductImageFactory(product=product)


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(
    ("who", "queries"),
    [
        # count, products with their cards (+ the JWT's user)
        ("anonymous", 2),
        ("shopper", 3),
        ("staff", 3),
    ],
)
def test_list_query_count_does_not_grow_with_the_page(
    rows, who, queries, api_client, user, staff, django_assert_num_queries
):
    _shelf(rows)
    client = {"anonymous": api_client, "shopper": jwt_client(user), "staff": jwt_client(staff)}

    with django_assert_num_queries(queries):
        response = client[who].get(PRODUCTS, {"page_size": 30})

    assert len(response.json()["results"]) == rows


# --- Product list: filters, search, ordering, pagination -----------------------------------------
def test_filter_by_category_includes_sub_categories(api_client):
    trees = CategoryFactory(slug="trees")
    conifers = CategoryFactory(slug="conifers", parent=trees)
    ProductFactory(slug="pine", category=conifers)
    ProductFactory(slug="maple", category=trees)
    ProductFactory(slug="shears", category=CategoryFactory(slug="tools"))

    assert sorted(listed(api_client.get(PRODUCTS, {"category": "trees"}))) == ["maple", "pine"]
    assert listed(api_client.get(PRODUCTS, {"category": "conifers"})) == ["pine"]
    assert listed(api_client.get(PRODUCTS, {"category": "nowhere"})) == []


def test_filter_by_category_ends_on_a_loop_in_the_tree(api_client):
    trees = CategoryFactory(slug="trees")
    conifers = CategoryFactory(slug="conifers", parent=trees)
    Category.objects.filter(pk=trees.pk).update(parent=conifers)  # a loop, as bad data may hold
    ProductFactory(slug="pine", category=conifers)
    ProductFactory(slug="maple", category=trees)

    assert sorted(listed(api_client.get(PRODUCTS, {"category": "trees"}))) == ["maple", "pine"]


def test_filter_by_kind_tag_and_featured(api_client):
    ProductFactory(slug="ebook", kind=Product.Kind.DIGITAL, tags=["guide"])
    ProductFactory(slug="pot", tags=["ceramic"], is_featured=True)
    ProductFactory(slug="wire")

    assert listed(api_client.get(PRODUCTS, {"kind": "digital"})) == ["ebook"]
    assert sorted(listed(api_client.get(PRODUCTS, {"kind": "physical"}))) == ["pot", "wire"]
    assert listed(api_client.get(PRODUCTS, {"tag": "ceramic"})) == ["pot"]
    assert listed(api_client.get(PRODUCTS, {"featured": "true"})) == ["pot"]
    assert sorted(listed(api_client.get(PRODUCTS, {"featured": "false"}))) == ["ebook", "wire"]


def test_filter_by_price_range(api_client):
    for slug, price in [("cheap", "5.00"), ("mid", "25.00"), ("dear", "90.00")]:
        VariantFactory(product=ProductFactory(slug=slug), price=Decimal(price))

    assert sorted(listed(api_client.get(PRODUCTS, {"min_price": "20"}))) == ["dear", "mid"]
    assert sorted(listed(api_client.get(PRODUCTS, {"max_price": "25"}))) == ["cheap", "mid"]
    assert listed(api_client.get(PRODUCTS, {"min_price": "10", "max_price": "30"})) == ["mid"]


def test_filter_in_stock(api_client):
    VariantFactory(product=ProductFactory(slug="stocked"), stock=4)
    VariantFactory(product=ProductFactory(slug="empty"), stock=0)
    VariantFactory(product=ProductFactory(slug="download"), stock=0, track_inventory=False)

    assert sorted(listed(api_client.get(PRODUCTS, {"in_stock": "true"}))) == [
        "download",
        "stocked",
    ]
    assert listed(api_client.get(PRODUCTS, {"in_stock": "false"})) == ["empty"]


def test_search_q_matches_name_before_description(api_client):
    ProductFactory(slug="named", name="Juniper Bonsai", description="A small tree.")
    ProductFactory(slug="described", name="Pot", description="Fits a juniper perfectly.")
    ProductFactory(slug="other", name="Shears", description="Sharp.")

    assert listed(api_client.get(PRODUCTS, {"q": "juniper"})) == ["named", "described"]
    assert listed(api_client.get(PRODUCTS, {"q": "juniper", "ordering": "newest"})) == [
        "described",
        "named",
    ]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["c", "b", "a"]),
        ("newest", ["c", "b", "a"]),
        ("price", ["b", "c", "a"]),
        ("-price", ["a", "c", "b"]),
        ("name", ["b", "c", "a"]),
        ("-name", ["a", "c", "b"]),
        ("relevance", ["c", "b", "a"]),  # without a search: newest
    ],
)
def test_ordering(api_client, ordering, expected):
    for slug, name, price in [("a", "Wire", "30.00"), ("b", "Akadama", "5.00"), ("c", "Pot", "9")]:
        VariantFactory(product=ProductFactory(slug=slug, name=name), price=Decimal(price))

    params = {"ordering": ordering} if ordering else {}
    assert listed(api_client.get(PRODUCTS, params)) == expected


# The pages of two products each, by sort order and category (the shears' name is "Product N").
LIST_PAGES = {
    ("newest", ""): [["shears", "elm"], ["maple", "pine"]],
    ("newest", "trees"): [["elm", "maple"], ["pine"]],
    ("name", ""): [["elm", "maple"], ["pine", "shears"]],
    ("name", "trees"): [["elm", "maple"], ["pine"]],
    ("-name", ""): [["shears", "pine"], ["maple", "elm"]],
    ("-name", "trees"): [["pine", "maple"], ["elm"]],
    ("price", ""): [["pine", "elm"], ["shears", "maple"]],
    ("price", "trees"): [["pine", "elm"], ["maple"]],
}


@pytest.mark.parametrize("ordering", ["newest", "name", "-name", "price"])
@pytest.mark.parametrize("category", ["", "trees", "nothing-here"])
def test_lists_page_sort_and_count_by_category(api_client, ordering, category):
    """With or without a filter that every product passes, the same pages and counts."""
    trees = CategoryFactory(slug="trees", name="Trees")
    conifers = CategoryFactory(slug="conifers", name="Conifers", parent=trees)
    for slug, shelf, price in [
        ("pine", conifers, "8"),
        ("maple", trees, "30"),
        ("elm", trees, "9"),
    ]:
        ProductFactory(
            slug=slug, name=slug.title(), category=shelf, variants=1, variants__price=price
        )
    ProductFactory(slug="draft", category=trees, status=Status.DRAFT, variants=1)
    ProductFactory(slug="shears", variants=1)

    def pages(**filters) -> list:
        params = {"ordering": ordering, "category": category, "page_size": 2, **filters}
        answers = [api_client.get(PRODUCTS, {**params, "page": page}) for page in (1, 2)]
        return [
            (answer.json()["count"], [row["slug"] for row in answer.json()["results"]])
            if answer.status_code == 200
            else answer.status_code
            for answer in answers
        ]

    expected = LIST_PAGES.get((ordering, category), [[], None])
    count = sum(len(page) for page in expected if page)
    assert (
        pages()
        == pages(in_stock="true")
        == [
            (count, expected[0]),
            (count, expected[1]) if expected[1] is not None else 404,
        ]
    )
    if category == "trees":
        rows = api_client.get(PRODUCTS, {"ordering": ordering, "category": category}).json()
        assert {row["category"]["name"] for row in rows["results"]} == {"Trees", "Conifers"}


def test_list_is_paginated(api_client):
    for n in range(5):
        ProductFactory(slug=f"p{n}")

    first = api_client.get(PRODUCTS, {"page_size": 2}).json()
    last = api_client.get(PRODUCTS, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert [row["slug"] for row in first["results"]] == ["p4", "p3"]
    assert first["next"].endswith("page=2&page_size=2")
    assert first["previous"] is None
    assert [row["slug"] for row in last["results"]] == ["p0"]
    assert last["next"] is None
    assert_error(api_client.get(PRODUCTS, {"page": 9}), 404, "not_found")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "30", "max_price": "10"}, "max_price"),
        ({"ordering": "bogus"}, "ordering"),
        ({"kind": "bogus"}, "kind"),
    ],
)
def test_invalid_filters_are_a_400_naming_the_field(api_client, params, field):
    ProductFactory()

    error = assert_error(api_client.get(PRODUCTS, params), 400, "invalid", fields=(field,))

    assert list(error["fields"]) == [field]


# --- Visibility ----------------------------------------------------------------------------------
def test_drafts_and_archived_products_are_hidden_from_shoppers(api_client, auth_client):
    ProductFactory(slug="live")
    draft = ProductFactory(slug="draft", status=Status.DRAFT)
    archived = ProductFactory(slug="archived", status=Status.ARCHIVED)

    for client in (api_client, auth_client):
        assert listed(client.get(PRODUCTS)) == ["live"]
        for product in (draft, archived):
            assert_error(client.get(product_url(product.pk)), 404, "not_found")
            assert_error(client.get(slug_url(product.slug)), 404, "not_found")


def test_staff_see_every_product(staff_api_client):
    ProductFactory(slug="live")
    draft = ProductFactory(slug="draft", status=Status.DRAFT)
    ProductFactory(slug="archived", status=Status.ARCHIVED)

    assert listed(staff_api_client.get(PRODUCTS)) == ["archived", "draft", "live"]
    assert staff_api_client.get(product_url(draft.pk)).json()["status"] == "draft"
    assert staff_api_client.get(slug_url("draft")).json()["id"] == draft.pk


# --- Product detail ------------------------------------------------------------------------------
def test_detail_shows_the_product_page(api_client):
    product = ProductFactory(slug="pine", seo_title="Pine bonsai", tags=["outdoor"])
    shown = VariantFactory(
        product=product, sku="PINE-S", name="Small", options={"size": "S"}, stock=2, position=0
    )
    VariantFactory(product=product, sku="PINE-OLD", is_active=False)
    image = ProductImageFactory(product=product, variant=shown, alt_text="A pine")
    model = ProductModel3D.objects.create(
        product=product, file=SimpleUploadedFile("pine.glb", b"glTF")
    )

    response = api_client.get(product_url(product.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["description"] == product.description
    assert (body["seo_title"], body["status"], body["tags"]) == (
        "Pine bonsai",
        "published",
        ["outdoor"],
    )
    assert body["variants"] == [
        {
            "id": shown.pk,
            "sku": "PINE-S",
            "name": "Small",
            "options": {"size": "S"},
            "price": "19.90",
            "compare_at_price": None,
            "currency": "EUR",
            "in_stock": True,
            "stock_state": "low",
            "stock": None,
            "cost_price": None,
            "track_inventory": True,
            "low_stock_threshold": 5,
            "weight_grams": None,
            "position": 0,
            "is_active": True,
        }
    ]
    assert body["images"] == [
        {
            "id": image.pk,
            "thumbnail": f"http://testserver{image.thumbnail.url}",
            "large": f"http://testserver{image.large.url}",
            "original": f"http://testserver{image.image.url}",
            "alt_text": "A pine",
            "variant_id": shown.pk,
        }
    ]
    assert body["model_3d"] == {"file": f"http://testserver{model.file.url}", "poster": None}
    assert api_client.get(slug_url("pine")).json() == body


def test_staff_detail_shows_inactive_variants_and_exact_stock(staff_api_client):
    product = ProductFactory()
    VariantFactory(product=product, sku="ON", stock=7, cost_price=Decimal("3"), position=0)
    VariantFactory(product=product, sku="OFF", stock=1, is_active=False, position=1)

    variants = staff_api_client.get(product_url(product.pk)).json()["variants"]

    assert [(v["sku"], v["stock"], v["is_active"]) for v in variants] == [
        ("ON", 7, True),
        ("OFF", 1, False),
    ]
    assert variants[0]["cost_price"] == "3.00"


def test_detail_of_an_unknown_product_is_404(api_client, staff):
    ProductFactory(slug="draft", status=Status.DRAFT)
    assert_error(api_client.get(product_url(999999)), 404, "not_found")
    assert_error(api_client.get(product_url(10**30)), 404, "not_found")  # beyond any id
    assert_error(api_client.get(slug_url("nothing")), 404, "not_found")
    assert_error(api_client.get(slug_url("draft")), 404, "not_found")
    assert jwt_client(staff).get(slug_url("draft")).status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(
    ("who", "queries"),
    [
        # product with its card (tags, whether it has a 3D model), variants, images (+ the
        # JWT's user)
        ("anonymous", 3),
        ("shopper", 4),
        ("staff", 4),
    ],
)
def test_detail_query_count_does_not_grow_with_variants_and_images(
    rows, who, queries, api_client, user, staff, django_assert_num_queries
):
    product = ProductFactory(variants=rows, tags=["a", "b"])
    ProductImageFactory.create_batch(rows, product=product)
    client = {"anonymous": api_client, "shopper": jwt_client(user), "staff": jwt_client(staff)}

    with django_assert_num_queries(queries):
        response = client[who].get(product_url(product.pk))
    with django_assert_num_queries(queries):
        client[who].get(slug_url(product.slug))

    assert len(response.json()["variants"]) == rows
    assert len(response.json()["images"]) == rows


def test_detail_ignores_list_filters(api_client):
    product = ProductFactory()

    assert api_client.get(product_url(product.pk), {"ordering": "bogus"}).status_code == 200


# --- Categories ----------------------------------------------------------------------------------
def test_categories_are_a_paginated_tree(api_client, django_assert_num_queries):
    trees = CategoryFactory(name="Trees", slug="trees", position=0)
    conifers = CategoryFactory(name="Conifers", slug="conifers", parent=trees)
    CategoryFactory(name="Pines", slug="pines", parent=conifers)
    CategoryFactory(name="Tools", slug="tools", position=1)

    with django_assert_num_queries(1):
        response = api_client.get(CATEGORIES)

    body = response.json()
    assert body["count"] == 2
    roots = body["results"]
    assert [c["slug"] for c in roots] == ["trees", "tools"]
    assert roots[0] == {
        "id": trees.pk,
        "name": "Trees",
        "slug": "trees",
        "description": "",
        "image": None,
        "children": [
            {
                "id": conifers.pk,
                "name": "Conifers",
                "slug": "conifers",
                "description": "",
                "image": None,
                "children": [roots[0]["children"][0]["children"][0]],
            }
        ],
    }
    assert roots[0]["children"][0]["children"][0]["slug"] == "pines"
    assert [c["slug"] for c in api_client.get(CATEGORIES, {"page_size": 1}).json()["results"]] == [
        "trees"
    ]


# --- Staff only ----------------------------------------------------------------------------------
def test_writes_need_a_staff_user(api_client, auth_client):
    product = ProductFactory(variants=1)
    variant = product.variants.get()
    writes = [
        ("post", PRODUCTS),
        ("put", product_url(product.pk)),
        ("patch", product_url(product.pk)),
        ("delete", product_url(product.pk)),
        ("post", variants_url(product.pk)),
        ("patch", variant_url(variant.pk)),
        ("delete", variant_url(variant.pk)),
        ("post", stock_url(variant.pk)),
        ("get", variant_url(variant.pk)),
        ("get", movements_url(variant.pk)),
    ]

    for method, url in writes:
        assert_error(getattr(api_client, method)(url, {}), 401, "not_authenticated")
        error = assert_error(getattr(auth_client, method)(url, {}), 403, "permission_denied")
        assert error["message"] == "Only staff can change the catalogue."
    assert Product.objects.filter(pk=product.pk, status=Status.PUBLISHED).exists()


# --- Create --------------------------------------------------------------------------------------
def test_create_a_product_with_one_variant(staff_api_client):
    response = staff_api_client.post(
        PRODUCTS, {"name": "Akadama Soil", "variants": [{"sku": "AKA-5L", "price": "12.50"}]}
    )

    assert response.status_code == 201, response.content
    product = Product.objects.get()
    assert (product.name, product.slug, product.status) == ("Akadama Soil", "akadama-soil", "draft")
    variant = product.variants.get()
    assert (variant.sku, variant.price, variant.stock) == ("AKA-5L", Decimal("12.50"), 0)
    body = response.json()
    assert (body["id"], body["price"], body["status"]) == (product.pk, "12.50", "draft")
    assert not StockMovement.objects.exists()


def test_create_a_product_with_tags_category_and_initial_stock(staff_api_client, staff):
    category = CategoryFactory()

    response = staff_api_client.post(
        PRODUCTS,
        {
            "name": "Phone Case",
            "slug": "case",
            "status": "published",
            "category": category.pk,
            "tags": ["Gift", "Maple"],
            "variants": [
                {"sku": "CASE-16", "name": "iPhone 16", "price": "25", "stock": 4},
                {"sku": "CASE-P9", "name": "Pixel 9", "price": "25", "options": {"phone": "P9"}},
            ],
        },
    )

    assert response.status_code == 201, response.content
    product = Product.objects.get(slug="case")
    assert product.category == category
    assert sorted(product.tags.values_list("name", flat=True)) == ["Gift", "Maple"]
    assert list(product.variants.values_list("sku", "stock", "options")) == [
        ("CASE-16", 4, {}),
        ("CASE-P9", 0, {"phone": "P9"}),
    ]
    movement = StockMovement.objects.get()
    assert (movement.variant.sku, movement.delta, movement.reason, movement.created_by) == (
        "CASE-16",
        4,
        "restock",
        staff,
    )
    assert sorted(response.json()["tags"]) == ["gift", "maple"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"variants": [{"sku": "X", "price": "-1"}]}, "variants"),
        ({"variants": [{"sku": "X", "price": "1", "stock": -2}]}, "variants"),
        ({"variants": [{"sku": "X", "price": "1", "compare_at_price": "-0.01"}]}, "variants"),
        ({"variants": [{"sku": "TAKEN", "price": "1"}]}, "variants"),
        ({"variants": [{"sku": "D", "price": "1"}, {"sku": "D", "price": "2"}]}, "variants"),
        ({"variants": []}, "variants"),
        ({"variants": [{"price": "1"}]}, "variants"),
        ({"category": 999999}, "category"),
        ({"name": "x" * 201}, "name"),
        ({"name": ""}, "name"),
        ({"slug": "not a slug"}, "slug"),
        ({"slug": "taken"}, "slug"),
        ({"kind": "service"}, "kind"),
    ],
)
def test_create_validation_errors_name_the_field(staff_api_client, payload, field):
    ProductFactory(slug="taken")
    VariantFactory(sku="TAKEN")
    before = Product.objects.count()
    body = {"name": "Shears", "variants": [{"sku": "S-1", "price": "10"}], **payload}

    error = assert_error(staff_api_client.post(PRODUCTS, body), 400, "invalid", fields=(field,))

    assert list(error["fields"]) == [field]
    assert Product.objects.count() == before


def test_create_variant_errors_point_at_the_variant(staff_api_client):
    VariantFactory(sku="TAKEN")

    response = staff_api_client.post(
        PRODUCTS,
        {
            "name": "Shears",
            "variants": [{"sku": "OK", "price": "1"}, {"sku": "TAKEN", "price": "-1"}],
        },
    )

    fields = assert_error(response, 400, "invalid", fields=("variants",))["fields"]
    assert list(fields["variants"]) == ["1"]
    assert list(fields["variants"]["1"]) == ["price"]


def test_create_a_sku_taken_meanwhile_is_a_400_not_a_500(staff_api_client, monkeypatch):
    # Another request takes the SKU between our checks and our insert.
    VariantFactory(sku="RACE")
    monkeypatch.setattr(
        api_serializers.ProductInput, "validate_variants", lambda self, variants: variants
    )
    monkeypatch.setattr(ProductVariant, "validate_unique", lambda self, exclude=None: None)

    response = staff_api_client.post(
        PRODUCTS, {"name": "Race", "variants": [{"sku": "RACE", "price": "1"}]}
    )

    error = assert_error(response, 400, "invalid", fields=("variants",))
    assert error["fields"]["variants"] == ["A variant with this SKU already exists."]
    assert not Product.objects.filter(name="Race").exists()


def test_an_unrelated_integrity_error_is_not_hidden(staff_api_client, monkeypatch):
    def fail(**kwargs):
        raise IntegrityError("CHECK constraint failed: something_else")

    monkeypatch.setattr(services, "product_create", fail)

    with pytest.raises(IntegrityError):
        staff_api_client.post(PRODUCTS, {"name": "X", "variants": [{"sku": "X", "price": "1"}]})


# --- Update --------------------------------------------------------------------------------------
def test_patch_changes_only_the_fields_given(staff_api_client):
    product = ProductFactory(name="Old", slug="old", variants=2, tags=["keep"])

    response = staff_api_client.patch(product_url(product.pk), {"name": "New", "is_featured": True})

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (product.name, product.slug, product.is_featured) == ("New", "old", True)
    assert product.variants.filter(is_active=True).count() == 2
    assert list(product.tags.values_list("name", flat=True)) == ["keep"]
    assert response.json()["name"] == "New"


def test_patch_variants_is_the_full_list(staff_api_client):
    product = ProductFactory()
    kept = VariantFactory(product=product, sku="KEEP", price=Decimal("10"), stock=3)
    dropped = VariantFactory(product=product, sku="DROP")

    response = staff_api_client.patch(
        product_url(product.pk),
        {
            "tags": ["new"],
            "variants": [
                {"id": kept.pk, "price": "12.00"},
                {"sku": "ADD", "price": "8.00", "stock": 2},
            ],
        },
    )

    assert response.status_code == 200, response.content
    rows = ProductVariant.objects.filter(product=product).order_by("sku")
    assert list(rows.values_list("sku", "price", "stock", "is_active")) == [
        ("ADD", Decimal("8.00"), 2, True),
        ("DROP", dropped.price, dropped.stock, False),
        ("KEEP", Decimal("12.00"), 3, True),
    ]
    shown = {v["sku"]: (v["position"], v["is_active"]) for v in response.json()["variants"]}
    assert shown == {"KEEP": (0, True), "ADD": (1, True), "DROP": (0, False)}
    assert list(product.tags.values_list("name", flat=True)) == ["new"]


def test_update_refuses_variants_of_another_product_and_stock_of_existing_ones(staff_api_client):
    product = ProductFactory(variants=1)
    own = product.variants.get()
    foreign = VariantFactory()

    foreign_response = staff_api_client.patch(
        product_url(product.pk), {"variants": [{"id": foreign.pk, "price": "1"}]}
    )
    stock_response = staff_api_client.patch(
        product_url(product.pk), {"variants": [{"id": own.pk, "stock": 99}]}
    )

    fields = assert_error(foreign_response, 400, "invalid", fields=("variants",))["fields"]
    assert fields["variants"] == {"0": {"id": ["This product has no variant with this id."]}}
    fields = assert_error(stock_response, 400, "invalid", fields=("variants",))["fields"]
    assert list(fields["variants"]["0"]) == ["stock"]
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert (own.stock, own.is_active, foreign.price) == (10, True, Decimal("19.90"))


def test_patch_an_inactive_variant_keeps_it_inactive(staff_api_client):
    variant = VariantFactory(is_active=False, price=Decimal("5"))

    response = staff_api_client.patch(variant_url(variant.pk), {"price": "6.00"})

    assert response.status_code == 200
    variant.refresh_from_db()
    assert (variant.price, variant.is_active) == (Decimal("6.00"), False)
    assert staff_api_client.patch(variant_url(variant.pk), {"is_active": True}).json()["is_active"]


def test_put_needs_the_whole_product(staff_api_client):
    product = ProductFactory(variants=1)

    error = assert_error(
        staff_api_client.put(product_url(product.pk), {"name": "X"}), 400, "invalid"
    )

    assert list(error["fields"]) == ["variants"]
    variant = product.variants.get()
    response = staff_api_client.put(
        product_url(product.pk),
        {"name": "Whole", "variants": [{"id": variant.pk, "sku": variant.sku, "price": "3"}]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Whole"
    assert response.json()["price"] == "3.00"


def test_update_with_a_sku_of_another_product_is_a_400(staff_api_client):
    product = ProductFactory(variants=1)
    VariantFactory(sku="OTHER")
    variant = product.variants.get()

    response = staff_api_client.patch(
        product_url(product.pk), {"variants": [{"id": variant.pk, "sku": "OTHER"}]}
    )

    fields = assert_error(response, 400, "invalid", fields=("variants",))["fields"]
    assert fields["variants"] == {"0": {"sku": ["A variant with this SKU already exists."]}}


# --- Delete / archive ----------------------------------------------------------------------------
def test_delete_a_product_without_history(staff_api_client):
    product = ProductFactory(variants=2)

    response = staff_api_client.delete(product_url(product.pk))

    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not ProductVariant.objects.exists()


def test_delete_archives_a_product_with_stock_history(staff_api_client, api_client):
    product = ProductFactory(variants=1)
    services.stock_adjust(variant=product.variants.get(), delta=2, reason="restock")

    response = staff_api_client.delete(product_url(product.pk))

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["status"]) == (product.pk, "archived")
    product.refresh_from_db()
    assert product.status == Status.ARCHIVED
    assert product.variants.count() == 1
    assert_error(api_client.get(product_url(product.pk)), 404, "not_found")


# --- Variants ------------------------------------------------------------------------------------
def test_add_a_variant_with_initial_stock(staff_api_client, staff):
    product = ProductFactory()
    first = VariantFactory(product=product, position=0)

    response = staff_api_client.post(
        variants_url(product.pk), {"sku": "NEW", "price": "4.20", "stock": 6}
    )

    assert response.status_code == 201, response.content
    variant = ProductVariant.objects.get(sku="NEW")
    assert (variant.product, variant.price, variant.stock, variant.position) == (
        product,
        Decimal("4.20"),
        6,
        1,
    )
    assert variant.stock_movements.get().created_by == staff
    body = response.json()
    assert (body["id"], body["stock"], body["stock_state"]) == (variant.pk, 6, "in_stock")
    first.refresh_from_db()
    assert (first.position, first.is_active) == (0, True)


def test_add_a_variant_validation(staff_api_client):
    product = ProductFactory()
    VariantFactory(sku="TAKEN")

    for payload, field in [
        ({"sku": "TAKEN", "price": "1"}, "sku"),
        ({"sku": "X", "price": "-1"}, "price"),
        ({"sku": "X", "price": "1", "stock": -1}, "stock"),
        ({"sku": "X"}, "price"),
    ]:
        assert_error(
            staff_api_client.post(variants_url(product.pk), payload), 400, "invalid", (field,)
        )
    assert not product.variants.exists()


def test_patch_a_variant(staff_api_client):
    variant = VariantFactory(price=Decimal("10"), stock=4)
    sibling = VariantFactory(product=variant.product, position=3)

    response = staff_api_client.patch(
        variant_url(variant.pk), {"price": "11.00", "compare_at_price": "15.00"}
    )

    assert response.status_code == 200, response.content
    variant.refresh_from_db()
    assert (variant.price, variant.compare_at_price, variant.stock) == (
        Decimal("11.00"),
        Decimal("15.00"),
        4,
    )
    sibling.refresh_from_db()
    assert (sibling.position, sibling.is_active) == (3, True)
    assert response.json()["price"] == "11.00"


def test_patch_a_variant_refuses_stock_and_bad_values(staff_api_client):
    variant = VariantFactory(stock=4)
    VariantFactory(sku="TAKEN")

    for payload, field in [
        ({"stock": 40}, "stock"),
        ({"price": "-3"}, "price"),
        ({"compare_at_price": "-1"}, "compare_at_price"),
        ({"sku": "TAKEN"}, "sku"),
    ]:
        assert_error(
            staff_api_client.patch(variant_url(variant.pk), payload), 400, "invalid", (field,)
        )
    variant.refresh_from_db()
    assert variant.stock == 4
    # Its own SKU is not "taken".
    assert staff_api_client.patch(variant_url(variant.pk), {"sku": variant.sku}).status_code == 200


def test_delete_a_variant_without_history_deletes_it(staff_api_client):
    product = ProductFactory()
    variant = VariantFactory(product=product, sku="GONE", stock=0)
    VariantFactory(product=product, sku="STAYS")

    response = staff_api_client.delete(variant_url(variant.pk))

    assert response.status_code == 204
    assert list(product.variants.values_list("sku", flat=True)) == ["STAYS"]


def test_delete_a_variant_with_history_takes_it_off_sale(staff_api_client, api_client):
    product = ProductFactory()
    variant = VariantFactory(product=product, sku="GONE", stock=0)
    services.stock_adjust(variant=variant, delta=2, reason="restock")
    VariantFactory(product=product, sku="STAYS")

    response = staff_api_client.delete(variant_url(variant.pk))

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    variant.refresh_from_db()
    assert variant.is_active is False
    assert variant.stock_movements.count() == 1
    shown = api_client.get(product_url(product.pk)).json()["variants"]
    assert [v["sku"] for v in shown] == ["STAYS"]
    assert staff_api_client.get(variant_url(variant.pk)).json()["sku"] == "GONE"


# --- Stock ---------------------------------------------------------------------------------------
def test_stock_delta_writes_the_ledger(staff_api_client, staff):
    variant = VariantFactory(stock=3)

    response = staff_api_client.post(
        stock_url(variant.pk), {"delta": 5, "reason": "restock", "note": "Delivery 12"}
    )

    assert response.status_code == 201, response.content
    variant.refresh_from_db()
    assert variant.stock == 8
    movement = StockMovement.objects.get()
    assert (movement.delta, movement.quantity_after, movement.reason, movement.note) == (
        5,
        8,
        "restock",
        "Delivery 12",
    )
    assert movement.created_by == staff
    assert response.json() == {
        "id": movement.pk,
        "variant_id": variant.pk,
        "delta": 5,
        "quantity_after": 8,
        "reason": "restock",
        "reference": "",
        "note": "Delivery 12",
        "created_by_id": staff.pk,
        "created_at": response.json()["created_at"],
    }


def test_stock_count_records_a_correction(staff_api_client):
    variant = VariantFactory(stock=10)

    response = staff_api_client.post(stock_url(variant.pk), {"quantity": 7, "note": "Counted"})

    assert response.status_code == 201
    assert (response.json()["delta"], response.json()["reason"]) == (-3, "correction")
    variant.refresh_from_db()
    assert variant.stock == 7
    assert staff_api_client.post(stock_url(variant.pk), {"quantity": 7}).status_code == 204
    assert StockMovement.objects.count() == 1


def test_stock_removal_beyond_the_stock_is_a_409(staff_api_client):
    variant = VariantFactory(stock=2)

    response = staff_api_client.post(stock_url(variant.pk), {"delta": -3, "reason": "correction"})

    assert_error(response, 409, "insufficient_stock", fields=("delta",))
    variant.refresh_from_db()
    assert variant.stock == 2
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"quantity": -1}, "quantity"),
        ({"delta": 0, "reason": "restock"}, "delta"),
        ({"delta": 2}, "reason"),
        ({"delta": 2, "reason": "order_reserved"}, "reason"),
        ({"quantity": 2, "reason": "restock"}, "reason"),
        ({"delta": "many", "reason": "restock"}, "delta"),
        ({"delta": 2**31, "reason": "restock"}, "delta"),
        ({"quantity": 2**31}, "quantity"),
        ({"delta": 1, "quantity": 1, "reason": "restock"}, "non_field_errors"),
        ({}, "non_field_errors"),
    ],
)
def test_stock_input_errors(staff_api_client, payload, field):
    variant = VariantFactory(stock=2)

    error = assert_error(
        staff_api_client.post(stock_url(variant.pk), payload), 400, "invalid", (field,)
    )

    assert list(error["fields"]) == [field]
    assert not StockMovement.objects.exists()


def test_stock_beyond_the_integer_column_is_a_400(staff_api_client):
    variant = VariantFactory(stock=10)

    response = staff_api_client.post(
        stock_url(variant.pk), {"delta": 2**31 - 1, "reason": "restock"}
    )
    assert_error(response, 400, "stock_too_large", fields=("delta",))

    response = staff_api_client.post(stock_url(variant.pk), {"quantity": 2**31})
    assert response.status_code == 400
    assert "quantity" in response.json()["error"]["fields"]

    variant.refresh_from_db()
    assert variant.stock == 10
    assert not variant.stock_movements.exists()


def test_stock_of_an_untracked_variant_cannot_change(staff_api_client):
    variant = VariantFactory(track_inventory=False, stock=0)

    response = staff_api_client.post(stock_url(variant.pk), {"delta": 1, "reason": "restock"})

    assert_error(response, 400, "stock_not_tracked")


def test_stock_movements_are_a_paginated_ledger_newest_first(
    staff_api_client, django_assert_num_queries
):
    variant = VariantFactory(stock=0)
    for delta in (5, -1, 3):
        services.stock_adjust(variant=variant, delta=delta, reason="correction")
    services.stock_adjust(variant=VariantFactory(), delta=1, reason="restock")

    with django_assert_num_queries(4):  # user, variant, count, page
        response = staff_api_client.get(movements_url(variant.pk), {"page_size": 2})

    body = response.json()
    assert body["count"] == 3
    assert [(m["delta"], m["quantity_after"]) for m in body["results"]] == [(3, 7), (-1, 4)]
