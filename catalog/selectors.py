"""Every non-trivial read of the catalogue, with the joins and prefetches its pages need."""

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from catalog import search
from catalog.models import Category, Product, ProductImage, ProductModel3D, ProductVariant

Status = Product.Status


def products_visible(*, staff: bool = False) -> QuerySet[Product]:
    """Shoppers see published products only; staff see every product."""
    products = Product.objects.all()
    return products if staff else products.filter(status=Status.PUBLISHED)


def _active_variants() -> QuerySet[ProductVariant]:
    return ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)


def with_listing_data(
    products: QuerySet[Product], *, tags: bool = False, all_variants: bool = False
) -> QuerySet[Product]:
    """What a product card shows: price (lowest active variant), stock state, first image.

    A fixed number of queries whatever the page size: the products, their variants, their
    images (and tags when asked for). Variants land in `active_variants`, or with
    `all_variants=True` every variant lands in `all_variants` (see `product_get`).
    """
    products = products.select_related("category").annotate(
        min_price=Subquery(_active_variants().order_by("price").values("price")[:1]),
    )
    variants = ProductVariant.objects.order_by("position", "pk")
    prefetches = [
        Prefetch(
            "variants",
            queryset=variants if all_variants else variants.filter(is_active=True),
            to_attr="all_variants" if all_variants else "active_variants",
        ),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk")),
    ]
    if tags:
        prefetches.append("tags")
    return products.prefetch_related(*prefetches)


def with_detail_data(
    products: QuerySet[Product], *, all_variants: bool = False
) -> QuerySet[Product]:
    """A product page: everything on the card plus tags and the active 3D model."""
    return with_listing_data(products, tags=True, all_variants=all_variants).prefetch_related(
        Prefetch(
            "models_3d",
            queryset=ProductModel3D.objects.filter(is_active=True),
            to_attr="active_models_3d",
        )
    )


def product_get(*, staff: bool = False, **lookup) -> Product:
    """One product by `pk=` or `slug=`, visible to the asker. Raises Product.DoesNotExist.

    Staff also get `all_variants` (including those taken off sale); everyone gets
    `active_variants`. Same number of queries either way.
    """
    product = with_detail_data(products_visible(staff=staff), all_variants=staff).get(**lookup)
    if staff:
        product.active_variants = [v for v in product.all_variants if v.is_active]
    return product


def filter_in_stock(products: QuerySet[Product], in_stock: bool) -> QuerySet[Product]:
    available = _active_variants().filter(Q(track_inventory=False) | Q(stock__gt=0))
    return products.filter(Exists(available)) if in_stock else products.exclude(Exists(available))


def filter_price(products: QuerySet[Product], *, low=None, high=None) -> QuerySet[Product]:
    """Products with an active variant priced within [low, high]."""
    variants = _active_variants()
    if low is not None:
        variants = variants.filter(price__gte=low)
    if high is not None:
        variants = variants.filter(price__lte=high)
    return products.filter(Exists(variants))


def filter_search(products: QuerySet[Product], text: str) -> QuerySet[Product]:
    """Match `text`, best first: ranked full text on PostgreSQL, name-then-anything elsewhere.

    The result is annotated with `relevance`; callers order by it unless asked otherwise.
    """
    text = text.strip()
    if not text:
        return products.annotate(relevance=Value(0.0))
    if search.is_available():
        query = SearchQuery(text, search_type="websearch", config=search.SEARCH_CONFIG)
        # A name that merely starts with the words typed (e.g. "bons") still matches, ranked last.
        return products.filter(Q(search_vector=query) | Q(name__icontains=text)).annotate(
            relevance=Coalesce(SearchRank(F("search_vector"), query), Value(0.0))
        )

    in_tags = Product.tags.through.objects.filter(product=OuterRef("pk"), tag__name__icontains=text)
    return products.filter(
        Q(name__icontains=text) | Q(description__icontains=text) | Exists(in_tags)
    ).annotate(
        relevance=Case(
            When(name__icontains=text, then=Value(1.0)),
            When(Exists(in_tags), then=Value(0.4)),
            default=Value(0.1),
            output_field=FloatField(),
        )
    )


@dataclass
class CategoryNode:
    category: Category
    children: list["CategoryNode"] = field(default_factory=list)

    def descendant_ids(self) -> list[int]:
        ids = [self.category.pk]
        for child in self.children:
            ids.extend(child.descendant_ids())
        return ids


def category_tree() -> list[CategoryNode]:
    """All categories as a tree of nodes, in their display order (one query)."""
    nodes = {c.pk: CategoryNode(c) for c in Category.objects.order_by("position", "name")}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.category.parent_id)
        (parent.children if parent else roots).append(node)
    return roots


def category_node_find(tree: list[CategoryNode], slug: str) -> CategoryNode | None:
    """The node of the category with `slug` in an already loaded tree, or None."""
    for node in tree:
        if node.category.slug == slug:
            return node
        found = category_node_find(node.children, slug)
        if found is not None:
            return found
    return None


def category_with_descendants(
    slug: str, tree: list[CategoryNode] | None = None
) -> tuple[Category, list[int]] | None:
    """A category and the ids of it and all its sub-categories, or None.

    One query, or none when the caller passes the tree it has already loaded.
    """
    node = category_node_find(category_tree() if tree is None else tree, slug)
    return (node.category, node.descendant_ids()) if node else None


def category_ancestors(
    category: Category, tree: list[CategoryNode] | None = None
) -> list[Category]:
    """The path from the root to `category` (for breadcrumbs), without extra queries."""
    parents = {}

    def walk(nodes, parent):
        for node in nodes:
            parents[node.category.pk] = parent
            walk(node.children, node.category)

    walk(tree if tree is not None else category_tree(), None)
    path, current = [], category
    while current is not None:
        path.append(current)
        current = parents.get(current.pk)
    return list(reversed(path))


def low_stock_variants() -> QuerySet[ProductVariant]:
    """Active, tracked variants of live products at or below their low-stock threshold."""
    return (
        ProductVariant.objects.filter(
            is_active=True,
            track_inventory=True,
            stock__lte=F("low_stock_threshold"),
        )
        .exclude(product__status=Status.ARCHIVED)
        .select_related("product")
        .order_by("stock", "sku")
    )
