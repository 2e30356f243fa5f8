"""Every write of downloads: files, the right to download them, each download, e-book chapters
and reading progress.

A download is counted by one conditional UPDATE (used < limit, not revoked, not expired), so
the limit holds however many requests arrive at once, on any database.
"""

import hashlib
import mimetypes
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import markdown
import nh3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.text import get_valid_filename

from catalog.models import Product
from downloads.exceptions import DownloadRefused, NotEntitled
from downloads.models import Chapter, DigitalAsset, DownloadEvent, Entitlement, ReadingProgress
from downloads.storage import download_url, private_storage
from orders.models import PAID_STATUSES, Order

CHUNK = 1024 * 1024


# --- Files ----------------------------------------------------------------------------------------


def asset_upload(
    *,
    product: Product,
    upload,
    title: str,
    version: str = "1",
    variant=None,
    asset: DigitalAsset | None = None,
) -> DigitalAsset:
    """Store an uploaded file on the private storage and record it (its size, SHA-256 and type,
    read from the bytes). Given `asset`, the file replaces that asset's (a new version); the old
    file is deleted once the new one is recorded."""
    digest, size = hashlib.sha256(), 0
    for chunk in upload.chunks(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    filename = get_valid_filename(upload.name.rsplit("/", 1)[-1]) or "download"
    content_type = (
        getattr(upload, "content_type", None)
        or mimetypes.guess_type(filename)[0]
        or "application/octet-stream"
    )
    storage = private_storage()
    stored = storage.save(f"assets/{product.pk}/{uuid.uuid4().hex}/{filename}", upload)
    old_name = asset.file_name if asset is not None else ""
    asset = asset or DigitalAsset(product=product)
    asset.variant, asset.title, asset.version = variant, title, version
    asset.file_name, asset.filename, asset.size = stored, filename, size
    asset.checksum, asset.content_type = digest.hexdigest(), content_type[:100]
    try:
        asset.save()
    except Exception:
        storage.delete(stored)
        raise
    if old_name and old_name != stored:
        transaction.on_commit(lambda: storage.delete(old_name))
    return asset


def assets_for(entitlement: Entitlement):
    """The files an entitlement gives: the product's, and those of the variant bought."""
    return DigitalAsset.objects.filter(
        Q(variant__isnull=True) | Q(variant_id=entitlement.variant_id),
        product_id=entitlement.product_id,
        is_active=True,
    ).order_by("title", "-created_at")


# --- Entitlements ---------------------------------------------------------------------------------


def entitlements_grant_for_order(*, order: Order) -> list[Entitlement]:
    """Give the buyer of a paid order the right to download its digital products, once per
    order line: calling it again (a repeated signal) changes nothing."""
    order = Order.objects.get(pk=order.pk)
    if order.status not in PAID_STATUSES:
        return []
    granted = []
    lines = order.lines.filter(is_digital=True).select_related("variant__product")
    for line in lines:
        product = line.variant.product
        days = product.download_days
        try:
            with transaction.atomic():
                entitlement, _ = Entitlement.objects.get_or_create(
                    order_line=line,
                    defaults={
                        "order": order,
                        "product": product,
                        "variant": line.variant,
                        "user": order.user,
                        "email": order.email,
                        "download_limit": default_limit(product) * line.quantity,
                        "expires_at": timezone.now() + timedelta(days=days) if days else None,
                    },
                )
        except IntegrityError:  # granted by a concurrent call
            entitlement = Entitlement.objects.get(order_line=line)
        granted.append(entitlement)
    return granted


def default_limit(product: Product) -> int:
    return product.download_limit or settings.MAX_DOWNLOADS_PER_USER


def entitlement_grant(
    *,
    product: Product,
    staff,
    user=None,
    email: str = "",
    download_limit: int | None = None,
    expires_at=None,
) -> Entitlement:
    """Staff give someone a product's files without an order (a replacement, a gift)."""
    return Entitlement.objects.create(
        product=product,
        user=user,
        email=(email or (user.email if user else "")).strip().lower(),
        download_limit=download_limit or default_limit(product),
        expires_at=expires_at,
        granted_by=staff,
    )


def entitlements_revoke(*, order: Order, reason: str, order_line_ids=None) -> int:
    """End the downloads of an order (all, or those of some lines): a refund, a cancellation."""
    entitlements = Entitlement.objects.filter(order=order, revoked_at__isnull=True)
    if order_line_ids is not None:
        entitlements = entitlements.filter(order_line_id__in=order_line_ids)
    return entitlements.update(revoked_at=timezone.now(), revoke_reason=reason[:200])


def lines_refunded_in_full(order: Order) -> list[int]:
    """Order lines whose whole quantity was refunded (by line) in succeeded refunds."""
    from payments.models import Refund, RefundLine

    refunded = (
        RefundLine.objects.filter(refund__order=order, refund__status=Refund.Status.SUCCEEDED)
        .values("order_line_id", "order_line__quantity")
        .annotate(total=Sum("quantity"))
    )
    return [r["order_line_id"] for r in refunded if r["total"] >= r["order_line__quantity"]]


def entitlements_grant_missing(*, days: int = 30) -> int:
    """Grant what a lost signal did not: paid orders of the last `days` with digital lines and
    no entitlement yet. Returns how many orders were caught up."""
    since = timezone.now() - timedelta(days=days)
    orders = Order.objects.filter(
        status__in=PAID_STATUSES,
        paid_at__gte=since,
        lines__is_digital=True,
        lines__entitlement__isnull=True,
    ).distinct()
    caught_up = 0
    for order in orders[:500]:
        if entitlements_grant_for_order(order=order):
            caught_up += 1
    return caught_up


def entitlement_reset(*, entitlement: Entitlement) -> None:
    """Staff give the buyer all their downloads again (and end a revocation)."""
    Entitlement.objects.filter(pk=entitlement.pk).update(
        downloads_used=0, revoked_at=None, revoke_reason=""
    )


# --- Downloading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    url: str
    asset: DigitalAsset
    entitlement: Entitlement
    event: DownloadEvent


def entitlements_usable_by(*, user=None, order: Order | None = None):
    """Entitlements a member (their own) or a guest (of their order) may use: paid orders only,
    and guest orders whose email was confirmed."""
    # Granted when the order was paid; a refund or cancellation revokes (and says so).
    paid = Q(order__isnull=True) | Q(order__paid_at__isnull=False)
    if order is not None:
        scope = Q(order=order, order__email_verified_at__isnull=False)
    elif user is not None and user.is_authenticated:
        scope = Q(user=user)
    else:
        return Entitlement.objects.none()
    return Entitlement.objects.filter(scope, paid).select_related("product", "order")


def download_start(
    *,
    product_id: int,
    user=None,
    order: Order | None = None,
    asset_id: int | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
) -> Download:
    """Count one download of a product's file and return a link that works for at most five
    minutes. Raises NotEntitled (404) when nothing bought gives this file, DownloadRefused
    (403, saying what to do) when the downloads are used up, expired or refunded."""
    candidates = list(
        entitlements_usable_by(user=user, order=order)
        .filter(product_id=product_id)
        .order_by("expires_at", "pk")
    )
    assets = {}
    for entitlement in candidates:
        chosen = assets_for(entitlement)
        chosen = chosen.filter(pk=asset_id) if asset_id else chosen
        if (asset := chosen.first()) is not None:
            assets[entitlement.pk] = asset
    candidates = [e for e in candidates if e.pk in assets]
    if not candidates:
        raise NotEntitled("You have no download of this product.")
    now = timezone.now()
    for entitlement in candidates:
        with transaction.atomic():
            counted = (
                Entitlement.objects.filter(
                    pk=entitlement.pk,
                    revoked_at__isnull=True,
                    downloads_used__lt=F("download_limit"),
                )
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
                .update(downloads_used=F("downloads_used") + 1)
            )
            if counted:
                event = DownloadEvent.objects.create(
                    entitlement=entitlement,
                    asset=assets[entitlement.pk],
                    user=user if user is not None and user.is_authenticated else None,
                    ip_address=ip_address,
                    user_agent=user_agent[:300],
                )
                url = download_url(asset=event.asset, event_id=event.pk)
                return Download(url, event.asset, entitlement, event)
    raise _refusal(candidates[-1], now)


def _refusal(entitlement: Entitlement, now) -> DownloadRefused:
    entitlement.refresh_from_db()
    product = entitlement.product.name
    where = f", quoting order {entitlement.order.number}," if entitlement.order else ""
    contact = f"Write to us at {settings.DEFAULT_FROM_EMAIL}{where}"
    if entitlement.revoked_at is not None:
        return DownloadRefused(
            f"The purchase of “{product}” was refunded or cancelled: it can no longer be "
            f"downloaded. {contact} if you think this is a mistake.",
            code="download_revoked",
        )
    if entitlement.expires_at is not None and entitlement.expires_at <= now:
        return DownloadRefused(
            f"Downloads of “{product}” ended on {entitlement.expires_at:%d %B %Y}. "
            f"{contact} and we will open them again.",
            code="download_expired",
        )
    return DownloadRefused(
        f"You have used all {entitlement.download_limit} downloads of “{product}”. "
        f"{contact} and we will give you more.",
        code="download_limit_reached",
    )


# --- E-books --------------------------------------------------------------------------------------

ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"figure", "figcaption"}


def render_markdown(body: str) -> str:
    """Markdown to HTML that is safe to show: no scripts, styles or event handlers."""
    html = markdown.markdown(body, extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, link_rel="noopener noreferrer nofollow")


def chapter_save(*, chapter: Chapter) -> Chapter:
    chapter.body_html = render_markdown(chapter.body)
    chapter.save()
    return chapter


def reading_progress_save(
    *, user, product: Product, chapter: Chapter, position: int, percent: Decimal | None = None
) -> ReadingProgress:
    """Remember where the reader is. Without `percent`, it is worked out from the chapter."""
    if percent is None:
        positions = list(Chapter.objects.filter(product=product).values_list("position", flat=True))
        index = positions.index(chapter.position) if chapter.position in positions else 0
        percent = Decimal(100 * index / max(len(positions), 1)).quantize(Decimal("0.01"))
    progress, _ = ReadingProgress.objects.update_or_create(
        user=user,
        product=product,
        defaults={"chapter": chapter, "position": position, "percent": percent},
    )
    return progress
