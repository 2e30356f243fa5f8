"""Every non-trivial read of the catalogue, with the joins and the reads its pages need."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from operator import attrgetter

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from catalog import search
from catalog.image_names import picture_url
from catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVariant,
    Tag,
    VariantRules,
    product_url,
    product_urls,
)

Status = Product.Status


def products_visible(*, staff: bool = False) -> QuerySet[Product]:
    """Shoppers see published products only; staff see every product."""
    products = Product.objects.all()
    return products if staff else products.filter(status=Status.PUBLISHED)


def _active_variants() -> QuerySet[ProductVariant]:
    return ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)


def with_min_price(products: QuerySet[Product]) -> QuerySet[Product]:
    """Adds `min_price`: the lowest price of the product's active variants (to sort by)."""
    return products.annotate(
        min_price=Subquery(_active_variants().order_by("price").values("price")[:1])
    )


# --- Product cards ------------------------------------------------------------------------------
#
# Lists show 24 products or more on a page: they are read as plain values (no model instances)
# into the small objects below, in three queries (four with tags) whatever the page size. They
# are not frozen: a page makes hundreds of them (a phone case has a variant per model), and a
# frozen dataclass takes several times as long to make. Nothing changes them once made.


@dataclass(slots=True)
class CategoryRef:
    id: int
    name: str
    slug: str


@dataclass(slots=True)
class CardVariant(VariantRules):
    """An active variant as a card sees it; `VariantRules` reads its price and stock."""

    price: Decimal
    compare_at_price: Decimal | None
    currency: str
    stock: int
    low_stock_threshold: int
    track_inventory: bool
    is_active: bool = True


@dataclass(slots=True)
class CardPicture:
    """A product's first image, by the stored file's name."""

    name: str
    alt_text: str

    @property
    def thumbnail_url(self) -> str:
        return picture_url(ProductImage, "thumbnail", self.name)

    @property
    def large_url(self) -> str:
        return picture_url(ProductImage, "large", self.name)


@dataclass
class ProductCard:
    """What a list shows of a product (shop pages and `GET /api/v1/products`)."""

    id: int
    name: str
    slug: str
    kind: str
    is_featured: bool
    category: CategoryRef | None
    variants: Sequence[VariantRules]  # the active ones, in display order
    picture: CardPicture | None
    tags: list[str]  # slugs, when asked for
    url: str  # its page

    @cached_property
    def cheapest(self) -> VariantRules | None:
        """The lowest price; among equal prices the variant shown first."""
        return min(self.variants, key=attrgetter("price"), default=None)

    @property
    def price_max(self) -> Decimal | None:
        return max((v.price for v in self.variants), default=None)

    @property
    def price_varies(self) -> bool:
        return len({v.price for v in self.variants}) > 1


def card_of(product: Product) -> ProductCard:
    """The card of a product from `product_get`."""
    first = product.gallery[0] if product.gallery else None
    category = product.category
    return ProductCard(
        id=product.pk,
        name=product.name,
        slug=product.slug,
        kind=product.kind,
        is_featured=product.is_featured,
        category=CategoryRef(category.pk, category.name, category.slug) if category else None,
        variants=product.active_variants,
        picture=CardPicture(first.image.name, first.alt_text) if first else None,
        tags=[tag.slug for tag in product.tag_list],
        url=product_url(product.slug),
    )


CARD_FIELDS = ("pk", "name", "slug", "kind", "is_featured", "category_id")
CARD_CATEGORY_FIELDS = ("category__name", "category__slug")


def card_rows(products: QuerySet[Product], *, category_names: bool = True) -> QuerySet:
    """The rows `product_cards` needs, as values (see `CardPaginator` to page through them).

    Without `category_names` the category is not joined in: for callers that have the
    categories at hand (a list page's tree) and give them to `product_cards`.
    """
    return products.values_list(*CARD_FIELDS, *(CARD_CATEGORY_FIELDS if category_names else ()))


class CardPaginator(Paginator):
    """Pages of `card_rows(products)`, counted on `products` alone: the rows join the category,
    which the count does not need (on a category of 3,000 products, a third of its time).
    `BrowseRows` are paged as they are (without category names)."""

    def __init__(
        self,
        products: "QuerySet[Product] | BrowseRows",
        per_page: int,
        *,
        category_names: bool = True,
    ) -> None:
        if isinstance(products, QuerySet):
            super().__init__(card_rows(products, category_names=category_names), per_page)
        else:
            super().__init__(products, per_page)
        self.products = products

    @cached_property
    def count(self) -> int:
        return self.products.count()


class BrowseRows:
    """`card_rows(...)` of the published products (of `category_ids`, when given) in the order
    of `order_by` (field names, as `order_by()` takes them), for `CardPaginator`: a count and a
    slice, each one query written as SQL.

    For the lists no filter narrows, the most common pages (a shelf, newest first): building
    their two queries through the ORM costs more than running them.
    """

    ordered = True  # for Paginator

    def __init__(
        self,
        order_by: Sequence[str],
        category_ids: list[int] | None = None,
        *,
        category_names: bool = True,
    ) -> None:
        self.where = "product.status = %s"
        self.params: list = [Status.PUBLISHED]
        if category_ids is not None:
            # `IN (NULL)` matches nothing, as an empty list of categories must.
            marks = ", ".join(["%s"] * len(category_ids)) or "NULL"
            self.where += f" AND product.category_id IN ({marks})"
            self.params += category_ids
        self.order = ", ".join(
            f"product.{_column(name[1:])} DESC"
            if name.startswith("-")
            else f"product.{_column(name)}"
            for name in order_by
        )
        self.columns = ", ".join(f"product.{_column(name)}" for name in CARD_FIELDS)
        self.tables = f"{PRODUCT_TABLE} product"
        if category_names:
            self.columns += ", category.name, category.slug"
            self.tables += (
                f" LEFT JOIN {Category._meta.db_table} category"
                " ON category.id = product.category_id"
            )

    @staticmethod
    def can_order_by(order_by: Sequence) -> bool:
        """Whether `order_by` names only columns of products (not annotations, expressions)."""
        return all(isinstance(name, str) and _column(name.lstrip("-")) for name in order_by)

    def count(self) -> int:
        sql = f"SELECT COUNT(*) FROM {PRODUCT_TABLE} product WHERE {self.where}"
        return _read(sql, self.params)[0][0]

    def __getitem__(self, rows: slice) -> list[tuple]:
        return _read(
            f"SELECT {self.columns} FROM {self.tables} WHERE {self.where}"
            f" ORDER BY {self.order} LIMIT %s OFFSET %s",
            [*self.params, rows.stop - rows.start, rows.start],
        )


PRODUCT_TABLE = Product._meta.db_table


def _column(name: str) -> str | None:
    """The column of a product field (`pk` included), None for any other name."""
    try:
        return Product._meta.pk.column if name == "pk" else Product._meta.get_field(name).column
    except FieldDoesNotExist:
        return None


def product_cards(
    rows: Iterable[tuple], *, tags: bool = False, categories: Mapping[int, Category] | None = None
) -> list[ProductCard]:
    """The cards of `card_rows` (already sliced to a page): variants and first pictures in one
    query each, tag slugs in one more when asked for (none for an empty page). Rows read without
    category names need the `categories` by id."""
    rows = list(rows)
    ids = [row[0] for row in rows]
    variants: dict[int, list[CardVariant]] = defaultdict(list)
    pictures: dict[int, CardPicture] = {}
    slugs: dict[int, list[str]] = defaultdict(list)
    if ids:
        for product_id, price, compare_at, currency, stock, threshold, tracked in _card_read(
            VARIANTS_SQL, ids
        ):
            variants[product_id].append(
                CardVariant(
                    _decimal(price), _decimal(compare_at), currency, stock, threshold, bool(tracked)
                )
            )
        # In reverse display order, so that the first picture is the one that stays.
        for product_id, name, alt_text in _card_read(PICTURES_SQL, ids):
            pictures[product_id] = CardPicture(name, alt_text)
        if tags:
            for product_id, slug in _card_read(TAGS_SQL, ids):
                slugs[product_id].append(slug)
    url_of = product_urls()
    return [
        ProductCard(
            id=pk,
            name=name,
            slug=slug,
            kind=kind,
            is_featured=bool(is_featured),
            category=_category_ref(category_id, named, categories),
            variants=variants[pk],
            picture=pictures.get(pk),
            tags=slugs[pk],
            url=url_of(slug),
        )
        for pk, name, slug, kind, is_featured, category_id, *named in rows
    ]


def _category_ref(
    category_id: int | None, named: list, categories: Mapping[int, Category] | None
) -> CategoryRef | None:
    if category_id is None:
        return None
    if categories is None:
        return CategoryRef(category_id, *named)
    category = categories.get(category_id)  # a shelf outside the tree (a loop) has no name here
    return CategoryRef(category.pk, category.name, category.slug) if category else None


# The reads behind the cards have a fixed shape: written as SQL, each costs a third of the time
# the ORM takes to build the same query (measured on a page of 24 cards). `{ids}` stands for the
# page's product ids.
VARIANTS_SQL = (
    "SELECT product_id, price, compare_at_price, currency, stock, low_stock_threshold,"
    f" track_inventory FROM {ProductVariant._meta.db_table}"
    " WHERE is_active AND product_id IN ({ids}) ORDER BY position, id"
)
PICTURES_SQL = (
    f"SELECT product_id, image, alt_text FROM {ProductImage._meta.db_table}"
    " WHERE product_id IN ({ids}) ORDER BY position DESC, id DESC"
)
TAGS_SQL = (
    f"SELECT link.product_id, tag.slug FROM {Product.tags.through._meta.db_table} link"
    f" JOIN {Tag._meta.db_table} tag ON tag.id = link.tag_id"
    " WHERE link.product_id IN ({ids}) ORDER BY tag.name"
)


def _card_read(sql: str, ids: list[int]) -> list[tuple]:
    return _read(sql.format(ids=", ".join(["%s"] * len(ids))), ids)


def _read(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _decimal(value) -> Decimal | None:
    """Prices as Decimal: PostgreSQL gives them so, SQLite gives plain numbers."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(CENT)


CENT = Decimal("0.01")


def product_get(*, staff: bool = False, **lookup) -> Product:
    """One product by `pk=` or `slug=`, visible to the asker, with what its page shows.
    Raises Product.DoesNotExist.

    Sets `active_variants` (staff also get `all_variants`, including those taken off sale), the
    images in `gallery` (each with `thumbnail_url` and `large_url`), the tags in `tag_list` and
    the active 3D models in `active_models_3d`.
    Five queries.
    """
    ((name, value),) = lookup.items()
    missing = Product.DoesNotExist(f"No product with {name} {value!r}.")
    field = Product._meta.pk if name == "pk" else Product._meta.get_field(name)
    try:
        value = field.get_prep_value(value)
    except (TypeError, ValueError):  # not a number, for the id
        raise missing from None
    if isinstance(value, int):  # beyond the column's range, as the ORM answers: no such product
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if not low <= value <= high:
            raise missing
    where, params = f"WHERE row_.{field.column} = %s", [value]
    if not staff:
        where, params = f"{where} AND row_.status = %s", [*params, Status.PUBLISHED]
    found = _instances(Product, where, params, related="category")
    if not found:
        raise missing
    product = found[0]
    variants = _related_rows(ProductVariant, product.pk, order="position, id")
    if staff:
        product.all_variants = variants
    product.active_variants = [v for v in variants if v.is_active]
    product.gallery = _related_rows(ProductImage, product.pk, order="position, id")
    for image in product.gallery:
        image.thumbnail_url = picture_url(ProductImage, "thumbnail", image.image.name)
        image.large_url = picture_url(ProductImage, "large", image.image.name)
    product.active_models_3d = [
        model
        for model in _related_rows(ProductModel3D, product.pk, order="created_at DESC, id DESC")
        if model.is_active
    ]
    product.tag_list = _instances(
        Tag,
        f"JOIN {Product.tags.through._meta.db_table} link ON link.tag_id = row_.id"
        " WHERE link.product_id = %s ORDER BY row_.name",
        [product.pk],
    )
    return product


def _related_rows(model, product_id: int, *, order: str) -> list:
    """A product's rows of `model`, read with plain SQL: a product page makes four such reads,
    and building each through the ORM costs about four times the query itself."""
    return _instances(model, f"WHERE row_.product_id = %s ORDER BY {order}", [product_id])


def _instances(
    model: type[Model],
    joins_where_order: str,
    params: list,
    *,
    related: str | None = None,
    before: str = "",
) -> list:
    """Instances of `model` from `SELECT <its columns> FROM <its table> row_ <joins_where_order>`
    (after `before`, for a WITH clause), with the object of its foreign key `related` joined in
    as `select_related()` would.

    As the ORM would read them, less its building of the query and matching of the columns to
    the fields on every call (most of the time of a small read): the columns are the models', in
    their fields' order.
    """
    columns, names = _model_columns(model, "row_")
    fields = [field.get_col(model._meta.db_table) for field in model._meta.concrete_fields]
    joins = ""
    if related:
        foreign_key = model._meta.get_field(related)
        other = foreign_key.related_model
        other_columns, other_names = _model_columns(other, "rel_")
        columns += f", {other_columns}"
        fields += [field.get_col(other._meta.db_table) for field in other._meta.concrete_fields]
        joins = (
            f" LEFT JOIN {other._meta.db_table} rel_"
            f" ON rel_.{other._meta.pk.column} = row_.{foreign_key.column}"
        )
    table = model._meta.db_table
    rows = _read(f"{before}SELECT {columns} FROM {table} row_{joins} {joins_where_order}", params)
    # The database's values as the fields hold them (JSON, and on SQLite dates and decimals).
    compiler = connection.ops.compiler("SQLCompiler")(model.objects.none().query, connection, None)
    converters = compiler.get_converters(fields)
    if converters:
        rows = compiler.apply_converters(rows, converters)
    alias, count = connection.alias, len(names)
    instances = []
    for row in rows:
        instance = model.from_db(alias, names, row[:count])
        if related:
            found = row[count] is not None  # the related row's id: none without one
            foreign_key.set_cached_value(
                instance, other.from_db(alias, other_names, row[count:]) if found else None
            )
        instances.append(instance)
    return instances


@cache
def _model_columns(model: type[Model], alias: str) -> tuple[str, list[str]]:
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in fields), [f.attname for f in fields]


def category_path(category: Category) -> list[Category]:
    """The path from the root to `category`, for breadcrumbs: no query for a top shelf, else
    one (a recursive query up the parents, cut off at 100 levels in case of a loop)."""
    if category.parent_id is None:
        return [category]
    table = Category._meta.db_table
    return _instances(
        Category,
        "JOIN path ON path.id = row_.id ORDER BY path.depth DESC",
        [category.pk],
        before=(
            "WITH RECURSIVE path (id, parent_id, depth) AS ("
            f" SELECT id, parent_id, 0 FROM {table} WHERE id = %s"
            " UNION ALL"
            f" SELECT parent.id, parent.parent_id, path.depth + 1 FROM {table} parent"
            " JOIN path ON parent.id = path.parent_id WHERE path.depth < 100) "
        ),
    )


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
    # Read as SQL, like the cards: every list page and product API filter needs the tree.
    categories = _instances(Category, "ORDER BY row_.position, row_.name", [])
    nodes = {c.pk: CategoryNode(c) for c in categories}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.category.parent_id)
        (parent.children if parent else roots).append(node)
    return roots


def category_index(tree: list[CategoryNode]) -> dict[int, Category]:
    """Every category of a loaded tree, by id."""
    index = {}
    waiting = list(tree)
    while waiting:
        node = waiting.pop()
        index[node.category.pk] = node.category
        waiting.extend(node.children)
    return index


def category_node_find(tree: list[CategoryNode], slug: str) -> CategoryNode | None:
    """The node of the category with `slug` in an already loaded tree, or None."""
    for node in tree:
        if node.category.slug == slug:
            return node
        found = category_node_find(node.children, slug)
        if found is not None:
            return found
    return None


def category_ids_under(slug: str) -> list[int] | None:
    """The ids of the category with `slug` and of all its sub-categories, or None when there
    is no such category. One query on three columns: API lists filter by category on most calls.
    """
    children: dict[int | None, list[int]] = defaultdict(list)
    found = None
    categories = _read(f"SELECT id, parent_id, slug FROM {Category._meta.db_table}", [])
    for pk, parent_id, category_slug in categories:  # read as SQL, like the tree
        children[parent_id].append(pk)
        if category_slug == slug:
            found = pk
    if found is None:
        return None
    ids, waiting = [], [found]
    while waiting:
        pk = waiting.pop()
        if pk not in ids:
            ids.append(pk)
            waiting.extend(children[pk])
    return ids


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
