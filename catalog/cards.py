"""What lists show of a product (its card), kept on the product in `Product.card`.

A list shows 24 products or more. Rather than read each one's variants, first picture and tags
for every list (three queries, most of the cost of a list that is not cached), each product
carries its card: prices, stock as a shopper reads it, first picture, tags, and whether it has
a 3D model. `ProductRules` works it out, the same rules a product page applies to the loaded
product, whenever something it shows changes (`catalog.invalidation` says when):
- the product, its variants, pictures, 3D models or tags are saved or deleted: at once, in the
  same transaction, so the change and its card commit together;
- a stock movement changes what a shopper reads of a variant's stock: once the movement has
  committed, so that an order never waits on (or locks) its products' rows;
- a tag is renamed or deleted: the cards of its products;
- much of the catalogue is written at once (`invalidation.many_changes`): every card, once.
A stock movement that leaves what shoppers read as it was leaves the card as it was.

Each refresh locks the products' rows (in pk order) before it reads: of two refreshes of a
product at once, the second waits and reads what the first committed.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps as installed_apps
from django.db import transaction

from catalog.image_names import picture_url
from catalog.models import SOLD_OUT, ProductImage, ProductRules, VariantRules, stock_state

BATCH = 500  # products per refresh query (SQLite allows 999 parameters)


# --- What a card shows (read) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardPrice:
    """The price a list shows: that of the cheapest active variant, with its former price
    when it is on sale (as `VariantRules` reads them)."""

    price: Decimal
    compare_at_price: Decimal | None
    currency: str

    @property
    def is_on_sale(self) -> bool:
        return self.compare_at_price is not None


@dataclass(frozen=True, slots=True)
class CardPicture:
    """A product's first picture, by the stored file's name."""

    name: str
    alt_text: str

    @property
    def thumbnail_url(self) -> str:
        return picture_url(ProductImage, "thumbnail", self.name)

    @property
    def large_url(self) -> str:
        return picture_url(ProductImage, "large", self.name)


@dataclass(frozen=True, slots=True)
class TagRef:
    name: str
    slug: str


def shown(card: dict) -> dict:
    """What a stored card shows, under the names `ProductRules` gives them on a product (and
    `tag_list`, as `selectors.product_get` sets it). A card not yet worked out shows a product
    without variants."""
    price, price_max = card.get("price"), card.get("price_max")
    compare_at, picture = card.get("compare_at_price"), card.get("picture")
    return {
        "cheapest": None
        if price is None
        else CardPrice(
            Decimal(price), None if compare_at is None else Decimal(compare_at), card["currency"]
        ),
        "price_max": None if price_max is None else Decimal(price_max),
        "price_varies": price != price_max,
        "in_stock": card.get("in_stock", False),
        "stock_state": stock_state(*card["stock"]) if "stock" in card else SOLD_OUT,
        "picture": None if picture is None else CardPicture(*picture),
        "tag_list": tags(card),
    }


def tags(card: dict) -> list[TagRef]:
    return [TagRef(*tag) for tag in card.get("tags", ())]


def has_model_3d(card: dict) -> bool:
    return card.get("model_3d", False)


# --- Working cards out (write) --------------------------------------------------------------


@dataclass(slots=True)
class _Variant(VariantRules):
    price: Decimal
    compare_at_price: Decimal | None
    currency: str
    stock: int
    low_stock_threshold: int
    track_inventory: bool
    is_active: bool = True


@dataclass(slots=True)
class _Product(ProductRules):
    active_variants: list[_Variant]
    gallery: list[tuple[str, str]]  # the first picture's (name, alt text), if any


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def card_of(product: ProductRules, *, tags: list[TagRef], model_3d: bool) -> dict:
    """The card of `product` (its active variants and first picture loaded), as stored."""
    cheapest, state = product.cheapest, product.stock_state
    return {
        "price": _money(cheapest and cheapest.price),
        "price_max": _money(product.price_max),
        "compare_at_price": _money(cheapest.compare_at_price)
        if cheapest and cheapest.is_on_sale
        else None,
        "currency": cheapest.currency if cheapest else "",
        "in_stock": product.in_stock,
        "stock": [state.code, state.count],
        "picture": list(product.picture) if product.picture else None,
        "tags": [[tag.name, tag.slug] for tag in tags],
        "model_3d": model_3d,
    }


def refresh(product_ids: Iterable[int], *, apps=installed_apps) -> None:
    """Work out again the cards of the products `product_ids` (those that exist).

    `apps` is the app registry to take the models from (a migration passes its own)."""
    ids = sorted(set(product_ids))
    for start in range(0, len(ids), BATCH):
        _refresh_batch(ids[start : start + BATCH], apps)


def refresh_all(*, apps=installed_apps) -> None:
    products = apps.get_model("catalog", "Product")
    refresh(products.objects.values_list("pk", flat=True), apps=apps)


def _refresh_batch(ids: list[int], apps) -> None:
    Product, Variant, Image, Model3D = (
        apps.get_model("catalog", name)
        for name in ("Product", "ProductVariant", "ProductImage", "ProductModel3D")
    )
    with transaction.atomic():
        products = list(
            Product.objects.select_for_update().filter(pk__in=ids).order_by("pk").only("pk")
        )
        if not products:
            return
        variants: dict[int, list[_Variant]] = defaultdict(list)
        for product_id, *values in (
            Variant.objects.filter(product_id__in=ids, is_active=True)
            .order_by("position", "pk")
            .values_list(
                "product_id",
                "price",
                "compare_at_price",
                "currency",
                "stock",
                "low_stock_threshold",
                "track_inventory",
            )
        ):
            variants[product_id].append(_Variant(*values))
        # In reverse display order, so that the first picture is the one that stays.
        pictures = {
            product_id: (name, alt_text)
            for product_id, name, alt_text in Image.objects.filter(product_id__in=ids)
            .order_by("-position", "-pk")
            .values_list("product_id", "image", "alt_text")
        }
        tags: dict[int, list[TagRef]] = defaultdict(list)
        links = Product.tags.through.objects.filter(product_id__in=ids).order_by("tag__name")
        for product_id, name, slug in links.values_list("product_id", "tag__name", "tag__slug"):
            tags[product_id].append(TagRef(name, slug))
        with_model_3d = set(
            Model3D.objects.filter(product_id__in=ids, is_active=True).values_list(
                "product_id", flat=True
            )
        )
        for product in products:
            pk = product.pk
            picture = pictures.get(pk)
            loaded = _Product(variants[pk], [picture] if picture else [])
            product.card = card_of(loaded, tags=tags[pk], model_3d=pk in with_model_3d)
        Product.objects.bulk_update(products, ["card"])
