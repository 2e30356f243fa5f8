"""Every write to the catalogue and to stock.

Stock changes only here, and every change is one `StockMovement` row. Functions that change the
stock of several variants lock their rows in primary-key order, so two orders for overlapping
goods cannot deadlock and cannot both take the last item.

Saved and deleted rows make the cached reads that show them stale through `catalog.receivers`;
stock movements, and the writes here that send no signal (`update()`, `bulk_update()`), tell
`catalog.invalidation` themselves.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.text import slugify

from catalog import invalidation
from catalog.exceptions import CatalogError, InsufficientStock, StockNotTracked
from catalog.models import Category, Product, ProductVariant, StockMovement, Tag

Reason = StockMovement.Reason
MAX_STOCK = 2_147_483_647  # the stock column is a 32-bit integer on every database


# --- Stock --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockLine:
    """A quantity of one variant, as orders reserve or release it."""

    variant_id: int
    quantity: int


def _locked_variants(variant_ids: Iterable[int]) -> dict[int, ProductVariant]:
    """Lock the variants' rows in pk order (the one lock order of the store) and return them.

    Must be called inside a transaction.
    """
    ids = sorted(set(variant_ids))
    rows = (
        ProductVariant.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    return {variant.pk: variant for variant in rows}


def _apply(
    variant: ProductVariant, delta: int, *, reason: str, user, reference: str, note: str
) -> StockMovement:
    """Change a locked variant's stock in memory and return its (unsaved) ledger row.

    The caller saves both: one variant with `save(update_fields=["stock"])`, many with
    `_save_movements`, so an order of any size costs the same number of queries. The cached
    reads of the product go stale when the transaction commits, if shoppers would see the change.
    """
    shown_before = variant.stock_state
    variant.stock += delta
    invalidation.stock_moved(variant, shown_before)
    return StockMovement(
        variant=variant,
        delta=delta,
        quantity_after=variant.stock,
        reason=reason,
        reference=reference,
        note=note,
        created_by=user if user is not None and user.is_authenticated else None,
    )


@transaction.atomic
def stock_adjust(
    *,
    variant: ProductVariant | int,
    delta: int,
    reason: str,
    user=None,
    reference: str = "",
    note: str = "",
) -> StockMovement:
    """Add (or with a negative delta, remove) stock of one variant and record it in the ledger.

    Raises `InsufficientStock` if the stock would go below zero, `StockNotTracked` if the variant
    does not track inventory, and ValueError for a zero delta or an unknown reason.
    """
    if delta == 0:
        raise ValueError("A stock movement needs a non-zero delta.")
    if reason not in Reason.values:
        raise ValueError(f"Unknown stock reason {reason!r}.")
    variant_id = variant if isinstance(variant, int) else variant.pk
    locked = _locked_variants([variant_id])[variant_id]
    if not locked.track_inventory:
        raise StockNotTracked(f"{locked.sku} does not track inventory.")
    if locked.stock + delta > MAX_STOCK:
        raise CatalogError(
            f"Stock of {locked.sku} cannot exceed {MAX_STOCK}.",
            code="stock_too_large",
            fields={"delta": [f"Stock cannot exceed {MAX_STOCK}."]},
        )
    if locked.stock + delta < 0:
        raise InsufficientStock(
            f"Only {locked.stock} of {locked.sku} in stock; cannot remove {-delta}.",
            shortages=[_shortage(locked, -delta)],
            fields={"delta": [f"Only {locked.stock} in stock."]},
        )
    movement = _apply(locked, delta, reason=reason, user=user, reference=reference, note=note)
    locked.save(update_fields=["stock"])
    movement.save()
    if isinstance(variant, ProductVariant):
        variant.stock = locked.stock
    return movement


def stock_set(
    *,
    variant: ProductVariant | int,
    quantity: int,
    user=None,
    note: str = "",
    reference: str = "",
) -> StockMovement | None:
    """Record a stock count: set the stock to `quantity` with a correction row (None if equal)."""
    if not 0 <= quantity <= MAX_STOCK:
        message = (
            "Stock cannot be negative." if quantity < 0 else f"Stock cannot exceed {MAX_STOCK}."
        )
        raise CatalogError(message, code="invalid_quantity", fields={"quantity": [message]})
    with transaction.atomic():
        variant_id = variant if isinstance(variant, int) else variant.pk
        current = _locked_variants([variant_id])[variant_id].stock
        if quantity == current:
            return None
        return stock_adjust(
            variant=variant,
            delta=quantity - current,
            reason=Reason.CORRECTION,
            user=user,
            note=note,
            reference=reference,
        )


@transaction.atomic
def stock_adjust_many(
    *,
    variants: Iterable[ProductVariant],
    mode: str,
    quantity: int,
    user=None,
    note: str = "",
    reference: str = "",
) -> list[StockMovement]:
    """Receive (`mode="restock"`), take back (`"return"`) or count (`"count"`) the same quantity
    of several variants, all or none: the first refusal undoes the others.

    Locks every row first, in pk order. Raises what `stock_adjust` / `stock_set` raise; their
    messages name the variant.
    """
    if mode not in ("restock", "return", "count"):
        raise ValueError(f"Unknown stock mode {mode!r}.")
    locked = _locked_variants(v.pk for v in variants)
    movements = []
    for variant in locked.values():
        if mode == "count":
            movement = stock_set(
                variant=variant, quantity=quantity, user=user, note=note, reference=reference
            )
        else:
            movement = stock_adjust(
                variant=variant,
                delta=quantity,
                reason=mode,
                user=user,
                note=note,
                reference=reference,
            )
        if movement is not None:
            movements.append(movement)
    return movements


def _shortage(variant: ProductVariant, wanted: int) -> dict:
    return {
        "variant_id": variant.pk,
        "sku": variant.sku,
        "requested": wanted,
        "available": variant.stock,
    }


def _merge(lines: Iterable[StockLine]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for line in lines:
        if line.quantity <= 0:
            raise ValueError("Quantities must be positive.")
        merged[line.variant_id] = merged.get(line.variant_id, 0) + line.quantity
    return merged


@transaction.atomic
def stock_reserve(*, lines: Iterable[StockLine], reference: str, user=None) -> list[StockMovement]:
    """Take stock for an order: all lines or none.

    Locks the variants in pk order. Variants that do not track inventory are not counted. Raises
    `InsufficientStock` naming every short or unavailable variant, leaving all stock untouched.
    """
    wanted = _merge(lines)
    variants = _locked_variants(wanted)
    shortages = []
    for variant_id, quantity in wanted.items():
        variant = variants.get(variant_id)
        if variant is None:
            shortages.append({"variant_id": variant_id, "requested": quantity, "available": 0})
        elif not variant.is_buyable:
            shortages.append({**_shortage(variant, quantity), "available": 0})
        elif variant.track_inventory and variant.stock < quantity:
            shortages.append(_shortage(variant, quantity))
    if shortages:
        raise InsufficientStock(
            "Some items are not available in that quantity.", shortages=shortages
        )
    movements = [
        _apply(
            variants[variant_id],
            -quantity,
            reason=Reason.ORDER_RESERVED,
            user=user,
            reference=reference,
            note="",
        )
        for variant_id, quantity in sorted(wanted.items())
        if variants[variant_id].track_inventory
    ]
    return _save_movements(movements)


@transaction.atomic
def stock_release(
    *, lines: Iterable[StockLine], reference: str, reason: str = Reason.ORDER_RELEASED, user=None
) -> list[StockMovement]:
    """Give back stock of a cancelled or expired order (or a return). Locks in pk order."""
    if reason not in (Reason.ORDER_RELEASED, Reason.RETURN):
        raise ValueError("Stock is released for a cancelled order or a return.")
    given = _merge(lines)
    variants = _locked_variants(given)
    movements = [
        _apply(
            variants[variant_id], quantity, reason=reason, user=user, reference=reference, note=""
        )
        for variant_id, quantity in sorted(given.items())
        if variant_id in variants and variants[variant_id].track_inventory
    ]
    return _save_movements(movements)


def _save_movements(movements: list[StockMovement]) -> list[StockMovement]:
    """Write the new stock of the (locked) variants and their ledger rows: two queries."""
    if len(movements) == 1:  # most orders: a plain UPDATE costs less to build than a bulk one
        movements[0].variant.save(update_fields=["stock"])
    elif movements:
        ProductVariant.objects.bulk_update([m.variant for m in movements], ["stock"])
    return StockMovement.objects.bulk_create(movements)


# --- Products -----------------------------------------------------------------------------------

PRODUCT_FIELDS = (
    "name",
    "slug",
    "description",
    "kind",
    "category",
    "status",
    "is_featured",
    "seo_title",
    "seo_description",
)
VARIANT_FIELDS = (
    "sku",
    "name",
    "options",
    "price",
    "compare_at_price",
    "cost_price",
    "currency",
    "low_stock_threshold",
    "track_inventory",
    "is_active",
    "weight_grams",
    "position",
)


def unique_slug(model, text: str, *, exclude_pk: int | None = None) -> str:
    """A slug from `text` that no other row of `model` uses (adds -2, -3, ... when taken)."""
    base = slugify(text)[:200] or "item"
    taken = set(
        model.objects.filter(slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def tags_get_or_create(names: Iterable[str]) -> list[Tag]:
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            tag = Tag.objects.create(name=name, slug=unique_slug(Tag, name))
        tags.append(tag)
    return tags


@transaction.atomic
def variant_save(
    *, product: Product, data: Mapping, user=None, variant: ProductVariant | None = None
) -> ProductVariant:
    """Create a variant of `product`, or change `variant`, from validated data.

    Stock is never written here: a new variant's `stock` in `data` is recorded in the ledger as
    received stock, and a change saves only the fields it was given (so a stock movement made at
    the same moment is never overwritten).
    """
    creating = variant is None
    variant = ProductVariant(product=product) if creating else variant
    given = [field for field in VARIANT_FIELDS if field in data]
    for field in given:
        setattr(variant, field, data[field])
    if creating and product.kind == Product.Kind.DIGITAL and "track_inventory" not in data:
        variant.track_inventory = False
    if creating and "position" not in data:
        last = product.variants.order_by("-position").values_list("position", flat=True).first()
        variant.position = 0 if last is None else last + 1
    variant.full_clean(exclude=["product"])
    if creating:
        variant.save()
        stock = data.get("stock") or 0
        if stock and variant.track_inventory:
            stock_adjust(
                variant=variant, delta=stock, reason=Reason.RESTOCK, user=user, note="Initial stock"
            )
    elif given:
        variant.save(update_fields=given)
    return variant


def variant_delete(*, variant: ProductVariant) -> bool:
    """Delete a variant, or take it off sale when its history must stay (it has ledger rows or
    was sold). Returns True if deleted, False if deactivated."""
    try:
        with transaction.atomic():
            variant.delete()
    except (ProtectedError, RestrictedError):
        ProductVariant.objects.filter(pk=variant.pk).update(is_active=False)
        invalidation.product_id_changed(variant.product_id)
        variant.is_active = False
        return False
    return True


@transaction.atomic
def product_create(*, data: Mapping, variants: list[Mapping], tags: Iterable[str] = (), user=None):
    """Create a product with its variants (at least one). `data` holds product fields.

    Each variant may carry an initial `stock`, recorded in the ledger as received stock.
    """
    product = Product()
    for field in PRODUCT_FIELDS:
        if field in data:
            setattr(product, field, data[field])
    if not product.slug:
        product.slug = unique_slug(Product, product.name)
    product.full_clean()
    product.save()
    if tags:
        product.tags.set(tags_get_or_create(tags))
    for position, variant_data in enumerate(variants):
        variant_save(product=product, data={"position": position, **variant_data}, user=user)
    return product


@transaction.atomic
def product_update(
    *,
    product: Product,
    data: Mapping,
    variants: list[Mapping] | None = None,
    tags: Iterable[str] | None = None,
    user=None,
):
    """Change a product. `variants`, when given, is the full list: a variant with an `id` is
    updated, one without is created, and existing ones not listed are deactivated (never deleted:
    their sales and ledger history stay)."""
    changed = [f for f in PRODUCT_FIELDS if f in data and getattr(product, f) != data[f]]
    for field in changed:
        setattr(product, field, data[field])
    if changed:
        product.full_clean()
        product.save(update_fields=[*changed, "updated_at"])
    if tags is not None:
        product.tags.set(tags_get_or_create(tags))
    if variants is not None:
        existing = {v.pk: v for v in product.variants.all()}
        kept = set()
        for position, variant_data in enumerate(variants):
            if "id" in variant_data and variant_data["id"] not in existing:
                raise CatalogError(
                    "A variant of another product cannot be changed here.",
                    code="unknown_variant",
                    fields={"variants": [f"Unknown variant {variant_data['id']}."]},
                )
            saved = variant_save(
                product=product,
                data={"position": position, **variant_data},
                user=user,
                variant=existing.get(variant_data.get("id")),
            )
            kept.add(saved.pk)
        if product.variants.exclude(pk__in=kept).update(is_active=False):
            invalidation.product_changed(product)
    return product


def product_delete(*, product: Product) -> bool:
    """Delete a product, or archive it when its history must stay (it was sold or its stock has
    ledger rows). Returns True if deleted, False if archived."""
    try:
        with transaction.atomic():
            product.delete()
    except (ProtectedError, RestrictedError):
        product_set_status(
            products=Product.objects.filter(pk=product.pk), status=Product.Status.ARCHIVED
        )
        product.status = Product.Status.ARCHIVED
        return False
    return True


def product_set_status(*, products, status: str) -> int:
    """Publish, archive or unpublish many products at once. Returns how many changed."""
    if status not in Product.Status.values:
        raise ValueError(f"Unknown status {status!r}.")
    products = products.exclude(status=status)
    invalidation.products_changed(products)
    return products.update(status=status, updated_at=timezone.now())


def product_set_featured(*, products, featured: bool) -> int:
    products = products.exclude(is_featured=featured)
    invalidation.products_changed(products)
    return products.update(is_featured=featured)


def category_create(*, name: str, parent: Category | None = None, **fields) -> Category:
    category = Category(name=name, parent=parent, **fields)
    if not category.slug:
        category.slug = unique_slug(Category, name)
    category.full_clean()
    category.save()
    return category
