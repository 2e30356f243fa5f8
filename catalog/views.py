"""The shop's pages: home, product lists (all products, a category, search) and the product page.

Every page reads through `catalog.selectors` and runs a fixed number of queries whatever the
number of products, variants or images it shows (pinned in tests/test_views.py). Shoppers get
the lists and product pages from `catalog.page_cache` until the catalogue changes.
"""

from dataclasses import dataclass

from django.core.paginator import Page
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.text import Truncator

from catalog import invalidation, selectors
from catalog.filters import ORDERINGS, ProductFilter
from catalog.models import Category, Product, ProductImage, ProductVariant
from catalog.page_cache import cached_page

PAGE_SIZE = 24
FEATURED_COUNT = 8
KINDS = Product.Kind.choices
# Filters a shopper sets in the filter panel (not search words, category or sort order).
PANEL_FILTERS = ("kind", "min_price", "max_price", "in_stock")
# The panel's fields that show their errors (each is also the name of its input).
PANEL_FIELDS = ("kind", "min_price", "max_price", "ordering")
# Set by links (search box, tag links, "featured"), carried along when the filter form is sent.
KEPT_PARAMS = ("q", "tag", "featured")


def home(request: HttpRequest) -> HttpResponse:
    featured = selectors.card_rows(Product.objects.visible().filter(is_featured=True))
    return render(
        request,
        "catalog/home.html",
        {
            "featured": selectors.product_cards(featured[:FEATURED_COUNT]),
            "categories": [node.category for node in selectors.category_tree()],
        },
    )


@cached_page(lambda request: invalidation.any_list())
def product_list(request: HttpRequest) -> HttpResponse:
    tree = selectors.category_tree()
    return _product_list_page(
        request,
        page_kind="all",
        heading="All products",
        sub_categories=[node.category for node in tree],
    )


@cached_page(lambda request, slug: invalidation.category_lists(slug))
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tree = selectors.category_tree()
    node = selectors.category_node_find(tree, slug)
    if node is None:
        raise Http404("No such category.")
    return _product_list_page(
        request,
        page_kind="category",
        heading=node.category.name,
        category=node.category,
        category_ids=node.descendant_ids(),
        sub_categories=[child.category for child in node.children],
        breadcrumbs=selectors.category_ancestors(node.category, tree)[:-1],
    )


@cached_page(lambda request: invalidation.any_list())
def search(request: HttpRequest) -> HttpResponse:
    tree = selectors.category_tree()
    text = request.GET.get("q", "").strip()
    # On this page a category narrows the search through ?category=<slug>, resolved against the
    # tree already loaded rather than by the filter (which would load it again).
    slug = request.GET.get("category", "")
    node = selectors.category_node_find(tree, slug) if slug else None
    category_ids = node.descendant_ids() if node else ([] if slug else None)
    return _product_list_page(
        request,
        page_kind="search",
        heading=f"Results for “{text}”" if text else "Search",
        category=node.category if node else None,
        category_ids=category_ids,
        sub_categories=[n.category for n in tree],
        search_text=text,
    )


@cached_page(lambda request, slug: invalidation.product_by_slug(slug))
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        product = selectors.product_get(slug=slug, staff=request.user.is_staff)
    except Product.DoesNotExist:
        raise Http404("No such product.") from None

    variants = product.active_variants
    selected = _selected_variant(variants, request.GET.get("variant"))
    images = _gallery(product.gallery, selected)
    main_image = _selected_image(images, request.GET.get("image"))
    canonical = request.build_absolute_uri(product.get_absolute_url())
    # The shared picture stays the same whichever picture or variant the link was opened with.
    first_image = next(iter(product.gallery), None)
    og_image = request.build_absolute_uri(first_image.large_url) if first_image else ""
    breadcrumbs = selectors.category_path(product.category) if product.category else []
    description = product.seo_description or _description_start(product.description)
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "variants": variants,
            "selected": selected,
            "images": images,
            "main_image": main_image,
            "model_3d": product.model_3d,
            "breadcrumbs": breadcrumbs,
            "tags": product.tag_list,
            "page_title": product.seo_title or product.name,
            "meta_description": description,
            "canonical_url": canonical,
            "og_image": og_image,
            "og_image_alt": first_image.alt_text if first_image else "",
            "structured_data": _structured_data(
                product,
                variants,
                images,
                canonical=canonical,
                description=description,
                request=request,
            ),
        },
    )


def _product_list_page(
    request: HttpRequest,
    *,
    page_kind: str,
    heading: str,
    sub_categories: list[Category],
    category: Category | None = None,
    category_ids: list[int] | None = None,
    breadcrumbs: list[Category] | None = None,
    search_text: str = "",
) -> HttpResponse:
    data = request.GET.copy()
    data.pop("category", None)  # handled above, from the path or against the loaded tree
    filterset = ProductFilter(data, queryset=Product.objects.visible())
    form = filterset.form
    valid = form.is_valid()
    products = filterset.qs
    if category_ids is not None:
        products = products.filter(category_id__in=category_ids)
    paginator = selectors.CardPaginator(products, PAGE_SIZE)
    # A page number that is not a number shows the first page, one past the end the last.
    page = paginator.get_page(request.GET.get("page"))
    panel_active = any(request.GET.get(name) for name in PANEL_FILTERS)
    # Links to other categories and pages keep the list's query parameters, less the page.
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "catalog/product_list.html",
        {
            "page_kind": page_kind,
            "heading": heading,
            "category": category,
            "breadcrumbs": breadcrumbs or [],
            "sub_categories": sub_categories,
            "search_text": search_text,
            "canonical_url": request.build_absolute_uri(request.path),
            "meta_description": _description_start(category.description) if category else "",
            "form": form,
            "field_errors": {name: form.errors.get(name, ()) for name in PANEL_FIELDS},
            "kept_params": [(name, data[name]) for name in KEPT_PARAMS if data.get(name)],
            "page_obj": page,
            "cards": selectors.product_cards(page.object_list),
            "query_without_page": f"?{query.urlencode()}" if query else "",
            "pagination": _pagination(query, page),
            "orderings": _orderings(search_text),
            "current_ordering": form.data.get("ordering", "")
            or ("relevance" if search_text else "newest"),
            "kinds": KINDS,
            "panel_open": panel_active or not valid,
        },
        status=200 if valid else 400,
    )


def _description_start(text: str, length: int = 160) -> str:
    text = " ".join(text.split())
    if len(text) <= length:
        return text  # as it is, without the cost of Truncator
    return Truncator(text).chars(length)


def _orderings(search_text: str) -> list[tuple[str, str]]:
    return [
        (key, label) for key, (label, _) in ORDERINGS.items() if key != "relevance" or search_text
    ]


@dataclass(frozen=True)
class PageLink:
    number: int | str  # a page number, or the ellipsis of a gap (no link)
    href: str = ""
    current: bool = False


def _pagination(query: QueryDict, page: Page) -> dict | None:
    """The links of a list's pages (previous, numbers with gaps, next), none for a single page.

    They keep the list's other query parameters (`query`). Worked out here, once, rather than
    by a `{% querystring %}` tag for every link (3% of the work of a list page).
    """
    paginator = page.paginator
    if paginator.num_pages <= 1:
        return None
    start = f"?{query.urlencode()}&page=" if query else "?page="
    numbers = paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)
    return {
        "previous": f"{start}{page.number - 1}" if page.has_previous() else "",
        "next": f"{start}{page.number + 1}" if page.has_next() else "",
        "links": [
            PageLink(number, f"{start}{number}", number == page.number)
            if isinstance(number, int)
            else PageLink(number)  # the ellipsis of a gap
            for number in numbers
        ],
    }


def _selected_variant(variants: list[ProductVariant], wanted: str | None) -> ProductVariant | None:
    """The variant asked for by ?variant=<id>, else the first one that can be bought."""
    by_id = {str(v.pk): v for v in variants}
    if wanted in by_id:
        return by_id[wanted]
    return next((v for v in variants if v.is_available), variants[0] if variants else None)


def _gallery(images: list[ProductImage], selected: ProductVariant | None) -> list[ProductImage]:
    """The product's images, those of the chosen variant first."""
    if selected is None:
        return images
    return sorted(images, key=lambda image: image.variant_id != selected.pk)


def _selected_image(images: list[ProductImage], wanted: str | None) -> ProductImage | None:
    return next((image for image in images if str(image.pk) == wanted), None) or (
        images[0] if images else None
    )


AVAILABILITY = {True: "https://schema.org/InStock", False: "https://schema.org/OutOfStock"}


def _structured_data(
    product: Product,
    variants: list[ProductVariant],
    images: list[ProductImage],
    *,
    canonical: str,
    description: str,
    request: HttpRequest,
) -> dict:
    """A schema.org Product with one offer per variant, for search engines' rich results."""
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "description": description,
        "url": canonical,
        "image": [request.build_absolute_uri(image.large_url) for image in images],
        "offers": [
            {
                "@type": "Offer",
                "sku": variant.sku,
                "name": variant.name or product.name,
                "price": str(variant.price),
                "priceCurrency": variant.currency,
                "availability": AVAILABILITY[variant.is_available],
                "url": f"{canonical}?variant={variant.pk}",
            }
            for variant in variants
        ],
    }
    if product.category:
        data["category"] = product.category.name
    if len(variants) == 1:
        data["sku"] = variants[0].sku
    return data
