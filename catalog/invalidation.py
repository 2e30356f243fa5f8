"""What each catalogue read depends on in the page cache, and what each write makes stale.

The one rule of the catalogue's cached pages and API answers (`catalog.page_cache`).

Scopes that shoppers' reads depend on (besides `page_cache.EVERYTHING`, which all depend on):
- a product's page and API detail: `product-id:<id>` (read by id) or `product-slug:<slug>`;
- a category's lists (its page, the API list filtered by it): `category:<slug>`;
- the lists that can hold any product (all products, search, the API list without a category):
  `lists`.

What a write makes stale, once it commits:
- A product's row, its tags, variants, pictures or 3D models saved or deleted: that product's
  page and detail (by id and by its slug, the old one too when it changed), the lists of its
  category and of every category above it (the old category's too when it moved), and `lists`.
  Publishing or archiving a product is such a change: those are all the reads that can show it.
- A stock movement: nothing, unless it changes what a shopper reads of a variant's stock
  (`VariantRules.stock_state`: in stock, "only N left" with its count, sold out; and so whether
  it can be bought). Then as for a change of its product. An order for a well-stocked variant
  leaves every cached read valid.
- A category or a tag saved or deleted (names, slugs, the tree), and writes of much of the
  catalogue at once (demo data, a wipe; see `many_changes`): everything.
The products' cards (`catalog.cards`, what lists show of each) follow the same rule: a write
that makes a product's reads stale works its card out again first.
Nothing else of the catalogue is invalidated: another category's lists and other products'
pages stay cached. Staff are never served from the cache, so what only staff read (cost
prices, exact stock) needs no rule of its own.
"""

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import QuerySet

from catalog import cards, page_cache
from catalog.models import Category, Product, ProductVariant, StockState, Tag

LISTS = "lists"


# --- What reads depend on -----------------------------------------------------------------------


def product_by_id(pk: int | str) -> list[str]:
    return [f"product-id:{pk}"]


def product_by_slug(slug: str) -> list[str]:
    return [f"product-slug:{slug}"]


def category_lists(slug: str) -> list[str]:
    return [f"category:{slug}"]


def any_list() -> list[str]:
    return [LISTS]


def product_list(category_slug: str) -> list[str]:
    """A list filtered by `category_slug` (as its filter reads it: spaces around it dropped)
    holds that category's products only; any other list, any product."""
    slug = category_slug.strip()
    return category_lists(slug) if slug else any_list()


# --- What writes make stale ---------------------------------------------------------------------


def everything_changed() -> None:
    _stale_on_commit([page_cache.EVERYTHING])


_many = threading.local()


@contextmanager
def many_changes() -> Iterator[None]:
    """Around writes of much of the catalogue at once: rather than working out what each row
    changed (a query or two a row), every card is worked out again and everything is made stale
    once, when the writes commit."""
    _many.depth = getattr(_many, "depth", 0) + 1
    try:
        yield
    finally:
        _many.depth -= 1
    if not _among_many_changes():
        cards.refresh_all()
    everything_changed()


def _among_many_changes() -> bool:
    return getattr(_many, "depth", 0) > 0


def product_changed(product: Product) -> None:
    """`product` (as saved, or as it was before a change of its slug or category) changed in
    a way shoppers may see."""
    products_shown_as([(product.pk, product.slug, product.category_id)])


def product_about_to_change(product: Product) -> None:
    """`product` is about to be saved: if it leaves a slug or a category, the reads of those go
    stale too (one query)."""
    if product.pk is None or _among_many_changes():
        return
    before = Product.objects.filter(pk=product.pk).values_list("slug", "category_id").first()
    if before is not None and before != (product.slug, product.category_id):
        _stale_on_commit(_scopes([(product.pk, *before)]))


def product_id_changed(product_id: int) -> None:
    """Like `product_changed`, for a product known by id (none if it is gone: its own deletion
    says what changed)."""
    if _among_many_changes():
        return
    product = Product.objects.filter(pk=product_id).only("slug", "category_id").first()
    if product is not None:
        product_changed(product)


def products_changed(products: QuerySet[Product]) -> None:
    """Like `product_changed` for each of `products` (read now: call it before a bulk
    `update()` that could move them out of the queryset)."""
    products_shown_as(products.values_list("pk", "slug", "category_id"))


def products_shown_as(products: Iterable[tuple[int, str, int | None]]) -> None:
    """Products, as (id, slug, category id), whose reads are stale: their cards are worked out
    again at once, their cached reads go stale on commit."""
    if _among_many_changes():
        return
    products = list(products)
    if products:
        cards.refresh(pk for pk, _, _ in products)
        _stale_on_commit(_scopes(products))


def _scopes(products: list[tuple[int, str, int | None]]) -> set[str]:
    """The scopes of the reads that show `products`, as (id, slug, category id)."""
    categories = {
        pk: (parent_id, slug)
        for pk, parent_id, slug in Category.objects.values_list("pk", "parent_id", "slug")
    }
    scopes = set(any_list())
    for pk, slug, category_id in products:
        scopes.update(product_by_id(pk), product_by_slug(slug))
        seen = set()
        while category_id in categories and category_id not in seen:  # a loop ends too
            seen.add(category_id)
            category_id, category_slug = categories[category_id]
            scopes.update(category_lists(category_slug))
    return scopes


def stock_moved(variant: ProductVariant, shown_before: StockState) -> None:
    """The stock of `variant` (with its product loaded; not saved yet) moved: its product's
    card and reads are stale only if what shoppers read of it changed. The card is worked out
    once the movement has committed (`catalog.cards`), before the reads go stale."""
    if variant.stock_state == shown_before or _among_many_changes():
        return
    product = variant.product
    transaction.on_commit(lambda: cards.refresh([product.pk]))
    _stale_on_commit(_scopes([(product.pk, product.slug, product.category_id)]))


def tag_changed(tag: Tag) -> None:
    """A tag renamed: the cards of its products show its name and slug; reads of them all are
    stale (tags are links on every list)."""
    if not _among_many_changes():
        cards.refresh(tag.products.values_list("pk", flat=True))
    everything_changed()


def tag_about_to_lose_products(tag: Tag) -> None:
    """A tag about to be deleted, or to lose all its products: once that has committed, the
    cards of the products it had."""
    if not _among_many_changes():
        product_ids = list(tag.products.values_list("pk", flat=True))
        transaction.on_commit(lambda: cards.refresh(product_ids))


def _stale_on_commit(scopes: Iterable[str]) -> None:
    scopes = frozenset(scopes)
    transaction.on_commit(lambda: page_cache.stale(scopes))
