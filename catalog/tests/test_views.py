"""The shop pages, through Django's test client, as an anonymous shopper unless said otherwise."""

import json
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog import views
from catalog.models import Product, ProductModel3D
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

Status = Product.Status
Kind = Product.Kind


def names(response) -> list[str]:
    return [card.name for card in response.context["cards"]]


def json_ld(response) -> dict:
    found = re.search(
        r'<script type="application/ld\+json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(found.group(1))


def meta(response, attribute: str, name: str) -> str:
    found = re.search(
        rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', response.content.decode()
    )
    assert found, f"no <meta {attribute}={name!r}>"
    return found.group(1)


# --- Home -------------------------------------------------------------------------------------


def test_home_shows_featured_published_products_and_top_level_categories(client):
    bonsai = CategoryFactory(name="Bonsai trees", slug="bonsai")
    CategoryFactory(name="Junipers", slug="junipers", parent=bonsai)
    ProductFactory(name="Shimpaku juniper", is_featured=True, variants=1)
    ProductFactory(name="Plain soil", is_featured=False, variants=1)
    ProductFactory(name="Secret draft", is_featured=True, status=Status.DRAFT, variants=1)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert [p.name for p in response.context["featured"]] == ["Shimpaku juniper"]
    top_level = [c.name for c in response.context["categories"]]
    assert "Bonsai trees" in top_level
    assert "Junipers" not in top_level
    assert b'role="search"' in response.content
    assert b"Secret draft" not in response.content


def test_home_shows_at_most_eight_featured_products(client):
    for _ in range(10):
        ProductFactory(is_featured=True, variants=1)

    response = client.get(reverse("home"))

    assert len(response.context["featured"]) == 8


def test_shop_link_in_the_header_opens_all_products(client):
    html = client.get(reverse("catalog:products")).content.decode()

    assert '<a class="site-nav__link" href="/shop/" aria-current="page">Shop</a>' in html


# --- Product lists ----------------------------------------------------------------------------


def test_all_products_lists_published_products_only(client):
    ProductFactory(name="Live", variants=1)
    ProductFactory(name="Draft", status=Status.DRAFT, variants=1)
    ProductFactory(name="Archived", status=Status.ARCHIVED, variants=1)

    response = client.get(reverse("catalog:products"))

    assert response.status_code == 200
    assert names(response) == ["Live"]
    assert b"1 product" in response.content


def test_category_page_includes_products_of_sub_categories(client):
    bonsai = CategoryFactory(name="Bonsai", slug="bonsai")
    junipers = CategoryFactory(name="Junipers", slug="junipers", parent=bonsai)
    tools = CategoryFactory(name="Tools", slug="tools")
    ProductFactory(name="Bonsai starter", category=bonsai, variants=1)
    ProductFactory(name="Shimpaku", category=junipers, variants=1)
    ProductFactory(name="Shears", category=tools, variants=1)

    response = client.get(reverse("catalog:category", args=["bonsai"]))

    assert response.status_code == 200
    assert sorted(names(response)) == ["Bonsai starter", "Shimpaku"]
    # Its sub-categories are offered as links.
    assert f'href="{junipers.get_absolute_url()}"'.encode() in response.content


@pytest.mark.parametrize("page", ["catalog:products", "home"])
def test_shop_pages_without_htmx_set_no_csrf_cookie(client, page):
    """Nothing on them posts with htmx: no token to make and no cookie to set for a visitor."""
    ProductFactory(variants=1, is_featured=True)

    response = client.get(reverse(page))

    assert response.status_code == 200
    assert "csrftoken" not in response.cookies
    assert b"htmx" not in response.content


def test_category_page_has_breadcrumbs_from_the_root(client):
    bonsai = CategoryFactory(name="Bonsai", slug="bonsai")
    junipers = CategoryFactory(name="Junipers", slug="junipers", parent=bonsai)
    CategoryFactory(name="Shimpaku", slug="shimpaku", parent=junipers)

    response = client.get(reverse("catalog:category", args=["shimpaku"]))

    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', response.content.decode(), re.S)
    text = re.sub(r"<[^>]+>|\s+", " ", crumbs.group(0)).split()
    assert text == ["Home", "Shop", "Bonsai", "Junipers", "Shimpaku"]


@pytest.mark.parametrize(
    ("depth", "queries"),
    [
        (1, 3),
        (2, 4),  # one more query up the parents, however deep
        (6, 4),
    ],
)
def test_product_page_has_breadcrumbs_from_the_root(
    client, django_assert_num_queries, depth, queries
):
    category = None
    for level in range(depth):
        category = CategoryFactory(name=f"Level{level}", slug=f"level-{level}", parent=category)
    product = ProductFactory(name="Shimpaku", category=category, variants=1)

    with django_assert_num_queries(queries):
        response = client.get(product.get_absolute_url())

    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', response.content.decode(), re.S)
    text = re.sub(r"<[^>]+>|\s+", " ", crumbs.group(0)).split()
    assert text == ["Home", "Shop", *[f"Level{level}" for level in range(depth)], "Shimpaku"]


def test_unknown_category_is_404(client):
    response = client.get(reverse("catalog:category", args=["no-such-thing"]))

    assert response.status_code == 404


def test_kind_filter(client):
    ProductFactory(name="Tree", kind=Kind.PHYSICAL, variants=1)
    ProductFactory(name="Guide", kind=Kind.DIGITAL, variants=1)

    response = client.get(reverse("catalog:products"), {"kind": "digital"})

    assert names(response) == ["Guide"]


def test_price_filters_and_in_stock(client):
    cheap = ProductFactory(name="Cheap")
    VariantFactory(product=cheap, price=Decimal("5.00"), stock=0)
    middle = ProductFactory(name="Middle")
    VariantFactory(product=middle, price=Decimal("25.00"), stock=3)
    dear = ProductFactory(name="Dear")
    VariantFactory(product=dear, price=Decimal("90.00"), stock=3)
    url = reverse("catalog:products")

    assert sorted(names(client.get(url, {"min_price": "10", "max_price": "50"}))) == ["Middle"]
    assert sorted(names(client.get(url, {"in_stock": "true"}))) == ["Dear", "Middle"]
    assert names(client.get(url, {"ordering": "-price"})) == ["Dear", "Middle", "Cheap"]


def test_filter_form_shows_the_choices_made(client):
    response = client.get(
        reverse("catalog:products"),
        {"kind": "digital", "min_price": "3", "in_stock": "true", "ordering": "name"},
    )

    html = response.content.decode()
    assert '<option value="digital" selected>' in html
    assert 'name="min_price" min="0" step="0.01" inputmode="decimal" value="3"' in html
    assert re.search(r'name="in_stock" value="true" checked', html)
    assert '<option value="name" selected>' in html
    assert '<details class="filter-panel" open>' in html


def test_search_page_finds_by_name_and_narrows_by_category(client):
    trees = CategoryFactory(name="Trees", slug="trees")
    tools = CategoryFactory(name="Tools", slug="tools")
    ProductFactory(name="Juniper bonsai", category=trees, variants=1)
    ProductFactory(name="Juniper wire cutter", category=tools, variants=1)
    ProductFactory(name="Phone case", category=tools, variants=1)
    url = reverse("catalog:search")

    response = client.get(url, {"q": "juniper"})
    narrowed = client.get(url, {"q": "juniper", "category": "tools"})
    unknown = client.get(url, {"q": "juniper", "category": "nope"})

    assert response.status_code == 200
    assert sorted(names(response)) == ["Juniper bonsai", "Juniper wire cutter"]
    assert "Results for “juniper”" in response.content.decode()
    assert b'<meta name="robots" content="noindex">' in response.content
    assert names(narrowed) == ["Juniper wire cutter"]
    assert names(unknown) == []
    assert b"Nothing here matches" in unknown.content


def test_invalid_filter_input_shows_the_errors_not_a_server_error(client):
    ProductFactory(name="Tree", variants=1)

    response = client.get(reverse("catalog:products"), {"kind": "spaceship", "min_price": "cheap"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Select a valid choice." in html
    assert "Enter a number." in html
    assert 'id="filter-min-price" type="number"' in html
    assert 'aria-invalid="true" aria-describedby="filter-min-price-error"' in html


def test_min_price_above_max_price_is_explained(client):
    response = client.get(reverse("catalog:products"), {"min_price": "50", "max_price": "10"})

    assert response.status_code == 400
    assert "The highest price must not be below the lowest." in response.content.decode()


@pytest.mark.parametrize(("page", "shown"), [("abc", 1), ("999", 2), ("-1", 2)])
def test_a_nonsense_page_number_shows_a_page_not_an_error(client, page, shown):
    ProductFactory.create_batch(30, variants=1)

    response = client.get(reverse("catalog:products"), {"page": page})

    assert response.status_code == 200
    assert response.context["page_obj"].number == shown


def test_pagination_shows_24_a_page_and_its_links_keep_the_filters(client):
    ProductFactory.create_batch(30, kind=Kind.DIGITAL, variants=1)
    ProductFactory.create_batch(2, kind=Kind.PHYSICAL, variants=1)
    url = reverse("catalog:products")

    first = client.get(url, {"kind": "digital", "ordering": "name"})
    second = client.get(url, {"kind": "digital", "ordering": "name", "page": "2"})

    assert len(first.context["page_obj"]) == 24
    assert "Showing 1–24 of 30 products" in first.content.decode()
    assert b'href="?kind=digital&amp;ordering=name&amp;page=2"' in first.content
    assert len(second.context["page_obj"]) == 6
    assert b'href="?kind=digital&amp;ordering=name&amp;page=1" rel="prev"' in second.content


# Pages of two products of the bonsai shelf below, by sort order (equal prices: the older first).
SHELF_PAGES = {
    "": [["Elm", "Ficus"], ["Azalea", "Shimpaku"], ["Maple"]],
    "newest": [["Elm", "Ficus"], ["Azalea", "Shimpaku"], ["Maple"]],
    "name": [["Azalea", "Elm"], ["Ficus", "Maple"], ["Shimpaku"]],
    "-name": [["Shimpaku", "Maple"], ["Ficus", "Elm"], ["Azalea"]],
    "price": [["Azalea", "Maple"], ["Ficus", "Elm"], ["Shimpaku"]],
    "-price": [["Shimpaku", "Ficus"], ["Elm", "Maple"], ["Azalea"]],
}


@pytest.mark.parametrize("ordering", list(SHELF_PAGES))
def test_lists_page_and_sort_in_every_order(client, monkeypatch, ordering):
    """With or without a filter that every product passes, the same pages."""
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    bonsai = CategoryFactory(slug="bonsai")
    junipers = CategoryFactory(slug="junipers", parent=bonsai)
    for name, category, price in [
        ("Maple", bonsai, "30.00"),
        ("Shimpaku", junipers, "80.00"),
        ("Azalea", bonsai, "12.00"),
        ("Ficus", junipers, "45.00"),
        ("Elm", bonsai, "45.00"),
    ]:
        ProductFactory(name=name, category=category, variants=1, variants__price=Decimal(price))
    ProductFactory(name="Draft", category=bonsai, status=Status.DRAFT, variants=1)
    ProductFactory(name="Shears", category=CategoryFactory(slug="tools"), variants=1)
    url = reverse("catalog:category", args=["bonsai"])

    def pages(**filters) -> list[list[str]]:
        return [
            names(client.get(url, {"ordering": ordering, "page": page, **filters}))
            for page in (1, 2, 3)
        ]

    assert pages() == pages(in_stock="true") == SHELF_PAGES[ordering]
    assert "Showing 1–2 of 5 products" in client.get(url, {"ordering": ordering}).content.decode()


def test_pagination_elides_far_pages_and_marks_the_current_one(client, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    ProductFactory.create_batch(12, variants=1)  # six pages

    html = client.get(reverse("catalog:products"), {"q": "", "page": "1"}).content.decode()
    links = re.findall(
        r'<li><(a|span) class="pagination__(?:link|gap)"([^>]*)>(.*?)</\1></li>', html
    )

    assert [
        (tag, attributes, text.replace('<span class="visually-hidden">Page </span>', ""))
        for tag, attributes, text in links
    ] == [
        ("a", ' href="?q=&amp;page=1" aria-current="page"', "1"),
        ("a", ' href="?q=&amp;page=2"', "2"),
        ("span", "", "…"),
        ("a", ' href="?q=&amp;page=6"', "6"),
        ("a", ' href="?q=&amp;page=2" rel="next"', "Next ›"),
    ]


def test_empty_list_shows_an_empty_state(client):
    response = client.get(reverse("catalog:products"))

    assert response.status_code == 200
    assert b"Nothing here matches" in response.content
    assert b"No products" in response.content


def test_product_card_shows_webp_thumbnail_price_from_sale_and_stock(client):
    product = ProductFactory(name="Phone case")
    VariantFactory(
        product=product, price=Decimal("19.00"), compare_at_price=Decimal("25.00"), stock=2
    )
    VariantFactory(product=product, price=Decimal("24.00"), stock=0)
    image = ProductImageFactory(product=product, alt_text="A green phone case")

    html = client.get(reverse("catalog:products")).content.decode()

    assert image.thumbnail.url.endswith(".webp")
    assert f'src="{image.thumbnail.url}"' in html
    assert f'srcset="{image.thumbnail.url} 400w, {image.large.url} 1200w"' in html
    assert 'width="400" height="400" loading="lazy"' in html
    assert 'alt="A green phone case"' in html
    assert '<span class="price__from">from</span> <span class="price__now">€19.00</span>' in html
    assert '<s class="price__was"><span class="visually-hidden">was </span>€25.00</s>' in html
    # One of two variants is left, and only two of it.
    assert '<p class="stock stock--low">Few left</p>' in html


def test_product_card_of_a_sold_out_product(client):
    product = ProductFactory(name="Rare maple")
    VariantFactory(product=product, price=Decimal("80.00"), stock=0)

    html = client.get(reverse("catalog:products")).content.decode()

    assert '<span class="price__now">€80.00</span>' in html
    assert "price__from" not in html
    assert '<p class="stock stock--sold_out">Sold out</p>' in html


# --- Product page -----------------------------------------------------------------------------


def test_draft_is_404_for_shoppers_and_previewed_by_staff(client, staff):
    draft = ProductFactory(name="Coming tree", status=Status.DRAFT, variants=1)
    url = draft.get_absolute_url()

    assert client.get(url).status_code == 404
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404

    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200
    assert "Draft — not visible to shoppers" in response.content.decode()
    assert b'<meta name="robots" content="noindex">' in response.content


def test_published_product_page_has_no_draft_note(client):
    product = ProductFactory(variants=1)

    response = client.get(product.get_absolute_url())

    assert response.status_code == 200
    assert "not visible to shoppers" not in response.content.decode()


def test_unknown_product_is_404(client):
    assert client.get(reverse("catalog:product", args=["nope"])).status_code == 404


def test_variant_picker_selects_by_query_parameter(client):
    product = ProductFactory(name="Tough case")
    first = VariantFactory(product=product, name="iPhone 16", price=Decimal("29.00"), stock=40)
    second = VariantFactory(
        product=product,
        name="Pixel 9",
        price=Decimal("27.00"),
        compare_at_price=Decimal("32.00"),
        stock=3,
        low_stock_threshold=5,
    )
    url = product.get_absolute_url()

    default = client.get(url).content.decode()
    chosen = client.get(url, {"variant": second.pk}).content.decode()

    assert '<span class="price__now">€29.00</span>' in default
    assert '<p class="stock stock--in_stock">In stock</p>' in default
    assert f'href="?variant={first.pk}" aria-current="true"' in default
    assert f'href="?variant={second.pk}">' in default
    assert '<span class="price__now">€27.00</span>' in chosen
    assert "€32.00</s>" in chosen
    assert '<p class="stock stock--low">Only 3 left</p>' in chosen
    assert f'href="?variant={second.pk}" aria-current="true"' in chosen


def test_sold_out_variant_and_a_default_that_can_be_bought(client):
    product = ProductFactory()
    sold_out = VariantFactory(product=product, name="Small", stock=0)
    VariantFactory(product=product, name="Large", stock=9, low_stock_threshold=2)
    url = product.get_absolute_url()

    default = client.get(url).content.decode()
    chosen = client.get(url, {"variant": sold_out.pk}).content.decode()

    assert 'variant-picker__chosen">Large<' in default
    assert '<p class="stock stock--in_stock">In stock</p>' in default
    assert '<p class="stock stock--sold_out">Sold out</p>' in chosen


def test_the_quantity_box_holds_no_stock_count_the_page_does_not_show(client):
    """The page stays cached through orders that leave its stock state as it was, so nothing
    on it may follow the exact stock: the box allows 99 unless "only N left" is shown."""
    product = ProductFactory()
    plenty = VariantFactory(product=product, stock=40, low_stock_threshold=5)
    few = VariantFactory(product=product, stock=3, low_stock_threshold=5)
    url = product.get_absolute_url()

    with_plenty = client.get(url, {"variant": plenty.pk}).content.decode()
    with_few = client.get(url, {"variant": few.pk}).content.decode()

    def quantity_max(page: str) -> str:
        return re.search(r'name="quantity"[^>]* max="(\d+)"', page).group(1)

    assert quantity_max(with_plenty) == "99"
    assert quantity_max(with_few) == "3"
    assert "Only 3 left" in with_few


@pytest.mark.parametrize("wanted", ["abc", "999999", ""])
def test_an_unknown_variant_falls_back_to_the_default(client, wanted):
    product = ProductFactory()
    VariantFactory(product=product, name="Only one", price=Decimal("12.00"))

    response = client.get(product.get_absolute_url(), {"variant": wanted})

    assert response.status_code == 200
    assert response.context["selected"].name == "Only one"


def test_an_inactive_variant_cannot_be_chosen(client):
    product = ProductFactory()
    VariantFactory(product=product, name="Current", price=Decimal("12.00"))
    retired = VariantFactory(product=product, name="Retired", is_active=False)

    response = client.get(product.get_absolute_url(), {"variant": retired.pk})

    assert response.context["selected"].name == "Current"
    assert b"Retired" not in response.content


def test_seo_and_open_graph_tags(client):
    category = CategoryFactory(name="Bonsai")
    product = ProductFactory(
        name="Chinese elm",
        category=category,
        seo_title="Chinese elm bonsai, 8 years",
        seo_description="A forgiving first tree.",
    )
    VariantFactory(product=product, sku="ELM-8", price=Decimal("49.00"), stock=4)
    image = ProductImageFactory(product=product)

    response = client.get(product.get_absolute_url())

    html = response.content.decode()
    canonical = f"http://testserver{product.get_absolute_url()}"
    assert "<title>Chinese elm bonsai, 8 years · Evergreen Store</title>" in html
    assert meta(response, "name", "description") == "A forgiving first tree."
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert meta(response, "property", "og:title") == "Chinese elm bonsai, 8 years"
    assert meta(response, "property", "og:description") == "A forgiving first tree."
    assert meta(response, "property", "og:type") == "product"
    assert meta(response, "property", "og:url") == canonical
    assert meta(response, "property", "og:image") == f"http://testserver{image.large.url}"

    data = json_ld(response)
    assert data["@type"] == "Product"
    assert data["name"] == "Chinese elm"
    assert data["category"] == "Bonsai"
    assert data["image"] == [f"http://testserver{image.large.url}"]
    assert data["offers"] == [
        {
            "@type": "Offer",
            "sku": "ELM-8",
            "name": product.variants.get().name,
            "price": "49.00",
            "priceCurrency": "EUR",
            "availability": "https://schema.org/InStock",
            "url": f"{canonical}?variant={product.variants.get().pk}",
        }
    ]


def test_seo_falls_back_to_name_and_the_start_of_the_description(client):
    product = ProductFactory(name="Concave cutter", description="Sharp.\n\n" + "word " * 60)
    VariantFactory(product=product)

    response = client.get(product.get_absolute_url())

    assert "<title>Concave cutter · Evergreen Store</title>" in response.content.decode()
    description = meta(response, "name", "description")
    assert description.startswith("Sharp. word word")
    assert len(description) <= 160


def test_json_ld_cannot_break_out_of_its_script_element(client):
    product = ProductFactory(name="</script><script>alert(1)</script>")
    VariantFactory(product=product)

    response = client.get(product.get_absolute_url())

    assert json_ld(response)["name"] == "</script><script>alert(1)</script>"
    assert b"<script>alert(1)" not in response.content


def test_gallery_shows_large_image_and_thumbnails(client):
    product = ProductFactory(variants=1)
    first, second = ProductImageFactory.create_batch(2, product=product)

    html = client.get(product.get_absolute_url()).content.decode()
    picked = client.get(product.get_absolute_url(), {"image": second.pk}).content.decode()

    assert f'<img src="{first.large.url}"' in html
    assert f'<img src="{second.thumbnail.url}" width="400" height="400"' in html
    assert f'<img src="{second.large.url}"' in picked


def test_choosing_a_variant_shows_its_own_picture_first(client):
    product = ProductFactory()
    VariantFactory(product=product, name="Green")
    blue = VariantFactory(product=product, name="Blue")
    green_picture = ProductImageFactory(product=product, alt_text="Green case")
    blue_picture = ProductImageFactory(product=product, variant=blue, alt_text="Blue case")

    default = client.get(product.get_absolute_url())
    chosen = client.get(product.get_absolute_url(), {"variant": blue.pk})

    assert default.context["main_image"] == green_picture
    assert chosen.context["main_image"] == blue_picture
    # Shared links show the same picture whichever variant they were opened with.
    assert meta(chosen, "property", "og:image") == f"http://testserver{green_picture.large.url}"


def test_3d_model_is_shown_with_its_script_only_when_there_is_one(client):
    plain = ProductFactory(variants=1)
    modelled = ProductFactory(variants=1)
    ProductModel3D.objects.create(
        product=modelled, file=SimpleUploadedFile("tree.glb", b"glTF\x02\x00\x00\x00")
    )

    plain_html = client.get(plain.get_absolute_url()).content.decode()
    modelled_html = client.get(modelled.get_absolute_url()).content.decode()

    assert "<model-viewer" not in plain_html
    assert "model-viewer.min.js" not in plain_html
    assert re.search(
        r'<model-viewer class="gallery__model" src="/media/models3d/tree[^"]*\.glb"', modelled_html
    )
    assert (
        '<script type="module" src="/static/vendor/model-viewer.min.js"></script>' in modelled_html
    )


def test_tags_link_to_the_filtered_list(client):
    product = ProductFactory(variants=1, tags=["juniper"])
    ProductFactory(name="Untagged", variants=1)

    html = client.get(product.get_absolute_url()).content.decode()
    tagged = client.get(reverse("catalog:products"), {"tag": "juniper"})

    assert 'href="/shop/?tag=juniper">juniper</a>' in html
    assert names(tagged) == [product.name]


# --- Query counts -----------------------------------------------------------------------------


def make_products(count: int, **fields) -> None:
    for _ in range(count):
        product = ProductFactory(variants=2, **fields)
        ProductImageFactory(product=product)


# category tree, featured products with their cards
HOME_QUERIES = 2
# category tree, count, products with their cards
LIST_QUERIES = 3


@pytest.mark.parametrize("count", [3, 30])
def test_home_queries_do_not_grow_with_products(client, django_assert_num_queries, count):
    make_products(count, is_featured=True)

    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("home"))

    assert len(response.context["featured"]) == min(count, 8)


@pytest.mark.parametrize("count", [3, 30])
@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/shop/", {}),
        ("/shop/bonsai/", {"in_stock": "true", "ordering": "price"}),
        ("/search/", {"q": "Product", "category": "bonsai"}),
    ],
)
def test_list_queries_do_not_grow_with_products(
    client, django_assert_num_queries, count, url, query
):
    bonsai = CategoryFactory(slug="bonsai")
    make_products(count, category=CategoryFactory(parent=bonsai))

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(url, query)

    assert len(response.context["page_obj"]) == min(count, 24)


@pytest.mark.parametrize("count", [3, 30])
def test_product_page_queries_do_not_grow_with_variants_and_images(
    client, django_assert_num_queries, count
):
    product = ProductFactory(category=CategoryFactory(), tags=["a", "b"])
    VariantFactory.create_batch(count, product=product)
    ProductImageFactory.create_batch(count, product=product)

    # the product with its card (tags, whether it has a 3D model; on a top shelf: no breadcrumbs
    # to read), variants, images
    with django_assert_num_queries(3):
        response = client.get(product.get_absolute_url())

    assert len(response.context["variants"]) == count


def test_a_3d_model_is_read_only_for_a_product_that_has_one(client, django_assert_num_queries):
    product = ProductFactory(category=CategoryFactory(), variants=1)
    ProductModel3D.objects.create(
        product=product, file=SimpleUploadedFile("tree.glb", b"glTF\x02\x00\x00\x00")
    )

    # the product with its card, variants, images, and its newest active 3D model
    with django_assert_num_queries(4):
        response = client.get(product.get_absolute_url())

    assert response.context["model_3d"].product_id == product.pk
