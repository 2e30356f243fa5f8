"""Every non-trivial read of the catalogue, with the joins and the reads its pages need.

Reads go through Django's public query API only. Lists read their page of products as plain
values (`values_list`) into light cards; a product page reads the model with
`select_related` and `prefetch_related(Prefetch(..., to_attr=...))`.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Paginator
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
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from catalog import cards, search
from catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVariant,
    StockState,
    product_urls,
)

Status = Product.Status


def _active_variants() -> QuerySet[ProductVariant]:
    return ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)


def with_min_price(products: QuerySet[Product]) -> QuerySet[Product]:
    """Adds `min_price`: the lowest price of the product's active variants (to sort by)."""
    return products.annotate(
        min_price=Subquery(_active_variants().order_by("price").values("price")[:1])
    )


# --- Product cards ------------------------------------------------------------------------------
#
# Lists show 24 products or more on a page: they are read as plain values (no model instances),
# each with the card stored on it (`catalog.cards`), into the small objects below: one query
# for the page whatever its size. A card carries what `ProductRules` gives a `Product` loaded
# by `product_get` (prices, stock, first picture) and its `tag_list`, so a card template or
# output serves both.


@dataclass(slots=True)
class CategoryRef:
    id: int
    name: str
    slug: str


@dataclass
class ProductCard:
    """What a list shows of a product (shop pages and `GET /api/v1/products`)."""

    id: int
    name: str
    slug: str
    kind: str
    is_featured: bool
    category: CategoryRef | None
    url: str
    cheapest: cards.CardPrice | None
    price_max: Decimal | None
    price_varies: bool
    in_stock: bool
    stock_state: StockState
    picture: cards.CardPicture | None
    tag_list: list[cards.TagRef]

    def get_absolute_url(self) -> str:
        return self.url


# The columns a card reads, in the order `product_cards` unpacks them.
CARD_FIELDS = (
    "pk",
    "name",
    "slug",
    "kind",
    "is_featured",
    "card",
    "category_id",
    "category__name",
    "category__slug",
)


def card_rows(products: QuerySet[Product]) -> QuerySet:
    """The rows `product_cards` makes cards of (slice them to a page first)."""
    return products.values_list(*CARD_FIELDS)


class CardPaginator(Paginator):
    """Pages of `products` as card rows (`product_cards` makes the cards of a page).

    The rows join the category for its name; the count, on `products` alone, does not (on a
    category of thousands of products the join is a third of the count's time).
    """

    def __init__(self, products: QuerySet[Product], per_page: int) -> None:
        super().__init__(card_rows(products), per_page)
        self.products = products

    @cached_property
    def count(self) -> int:
        return self.products.count()


def product_cards(rows: Iterable[tuple]) -> list[ProductCard]:
    """The cards of `card_rows` (a page of `CardPaginator`): no query of their own."""
    url_of = product_urls()
    return [
        ProductCard(
            id=pk,
            name=name,
            slug=slug,
            kind=kind,
            is_featured=is_featured,
            category=None if category_id is None else CategoryRef(category_id, *category),
            url=url_of(slug),
            **cards.shown(card),
        )
        for pk, name, slug, kind, is_featured, card, category_id, *category in rows
    ]


def product_get(*, staff: bool = False, **lookup) -> Product:
    """One product by `pk=` or `slug=`, visible to the asker, with what its page shows.
    Raises Product.DoesNotExist.

    Sets `variant_list` (the active variants; staff get those taken off sale too) and
    `active_variants`, the images in `gallery`, the tags in `tag_list` (from its card) and the
    newest of the active 3D models in `model_3d` (or None). Three queries, four with a 3D model.
    """
    variants = ProductVariant.objects.order_by("position", "pk")
    product = (
        Product.objects.visible(staff=staff)
        .select_related("category")
        .defer("search_vector")  # the search index's document: large, and never shown
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=variants if staff else variants.filter(is_active=True),
                to_attr="variant_list",
            ),
            Prefetch(
                "images",
                queryset=ProductImage.objects.order_by("position", "pk"),
                to_attr="gallery",
            ),
        )
        .get(**lookup)
    )
    product.active_variants = [v for v in product.variant_list if v.is_active]
    product.tag_list = cards.tags(product.card)
    product.model_3d = (
        ProductModel3D.objects.filter(product=product, is_active=True).first()
        if cards.has_model_3d(product.card)
        else None
    )
    return product


CATEGORY_PATH_SQL = """
WITH RECURSIVE path (id, parent_id, depth) AS (
    SELECT id, parent_id, 0 FROM catalog_category WHERE id = %s
    UNION ALL
    SELECT parent.id, parent.parent_id, path.depth + 1
    FROM catalog_category parent JOIN path ON parent.id = path.parent_id
    WHERE path.depth < 100
)
SELECT category.* FROM catalog_category category
JOIN path ON path.id = category.id
ORDER BY path.depth DESC
"""


def category_path(category: Category) -> list[Category]:
    """The path from the root to `category`, for breadcrumbs: no query for a top shelf, else
    one (a recursive query up the parents, cut off at 100 levels in case of a loop)."""
    if category.parent_id is None:
        return [category]
    return list(Category.objects.raw(CATEGORY_PATH_SQL, [category.pk]))


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
    categories = Category.objects.order_by("position", "name")
    nodes = {c.pk: CategoryNode(c) for c in categories}
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


CATEGORY_IDS_UNDER_SQL = """
WITH RECURSIVE under (id) AS (
    SELECT id FROM catalog_category WHERE slug = %s
    UNION
    SELECT child.id FROM catalog_category child JOIN under ON child.parent_id = under.id
)
SELECT id FROM under
"""


def filter_category(products: QuerySet[Product], slug: str) -> QuerySet[Product]:
    """Products of the category with `slug` or of any category below it (none when there is no
    such category). The categories are found by the same query, a recursive one down the tree
    (UNION ends it should the tree hold a loop): API lists filter by category on most calls."""
    return products.filter(category_id__in=RawSQL(CATEGORY_IDS_UNDER_SQL, [slug]))


def category_ancestors(category: Category, tree: list[CategoryNode]) -> list[Category]:
    """The path from the root to `category` in an already loaded tree (for breadcrumbs)."""
    parents = {}

    def walk(nodes, parent):
        for node in nodes:
            parents[node.category.pk] = parent
            walk(node.children, node.category)

    walk(tree, None)
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
