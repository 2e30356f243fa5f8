"""Reads of downloads, scoped to who asks."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from catalog.models import Product
from downloads.exceptions import NotEntitled
from downloads.models import Chapter, DigitalAsset, Entitlement, ReadingProgress
from downloads.services import entitlements_usable_by


def downloads_of(*, user=None, order=None) -> QuerySet[Entitlement]:
    """What a member (or a guest, for one order) has bought to download, newest first, with the
    product's active files prefetched (filter per variant with `files_for`)."""
    files = DigitalAsset.objects.filter(is_active=True).order_by("title", "-created_at")
    return (
        entitlements_usable_by(user=user, order=order)
        .select_related("product", "order", "variant")
        .prefetch_related(Prefetch("product__assets", queryset=files, to_attr="active_assets"))
        .annotate(has_chapters=Exists(Chapter.objects.filter(product=OuterRef("product_id"))))
        .order_by("-created_at", "-pk")
    )


def files_for(entitlement: Entitlement) -> list[DigitalAsset]:
    """The prefetched files of `downloads_of` that this entitlement gives."""
    return [
        asset
        for asset in entitlement.product.active_assets
        if asset.variant_id is None or asset.variant_id == entitlement.variant_id
    ]


def entitlement_state(entitlement: Entitlement) -> str:
    if entitlement.revoked_at is not None:
        return "revoked"
    if entitlement.expires_at is not None and entitlement.expires_at <= timezone.now():
        return "expired"
    if entitlement.downloads_left <= 0:
        return "used_up"
    return "active"


def ebook_for_reader(*, user, product_id: int) -> Product:
    """An e-book the member may read online: bought (paid, not refunded, not expired) and with
    chapters. Anything else is a 404."""
    now = timezone.now()
    readable = (
        entitlements_usable_by(user=user)
        .filter(product_id=product_id, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )
    product = Product.objects.filter(pk=product_id, chapters__isnull=False).distinct().first()
    if product is None or not readable.exists():
        raise NotEntitled("You have no e-book to read here.")
    return product


def chapters_of(product: Product) -> QuerySet[Chapter]:
    return Chapter.objects.filter(product=product).order_by("position")


def progress_of(*, user, product: Product) -> ReadingProgress | None:
    return (
        ReadingProgress.objects.filter(user=user, product=product)
        .select_related("chapter")
        .defer("chapter__body", "chapter__body_html")  # the place, not the text
        .first()
    )
