"""The downloads pages: "My downloads" in the account, a guest's downloads page (the emailed
link), and the short-lived link that streams a file from the local private folder."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from downloads import links, selectors, services
from downloads.exceptions import DownloadRefused, NotEntitled
from downloads.models import DownloadEvent
from downloads.storage import event_id_from_link, private_storage


def _client(request: HttpRequest) -> dict:
    return {
        "ip_address": request.META.get("REMOTE_ADDR"),
        "user_agent": request.headers.get("User-Agent", ""),
    }


def _rows(entitlements) -> list[dict]:
    return [
        {"entitlement": e, "files": selectors.files_for(e), "state": selectors.entitlement_state(e)}
        for e in entitlements
    ]


def _expired(request: HttpRequest) -> HttpResponse:
    context = {
        "days": settings.GUEST_DOWNLOAD_LINK_DAYS,
        "contact": settings.DEFAULT_FROM_EMAIL,
    }
    return render(request, "downloads/link_expired.html", context, status=410)


@login_required
def download_list(request: HttpRequest) -> HttpResponse:
    entitlements = selectors.downloads_of(user=request.user)
    return render(request, "downloads/list.html", {"rows": _rows(entitlements)})


def _download(request: HttpRequest, product_id: int, *, order=None, back: str) -> HttpResponse:
    asset_id = request.GET.get("asset")
    try:
        download = services.download_start(
            product_id=product_id,
            user=request.user if order is None else None,
            order=order,
            asset_id=int(asset_id) if asset_id and asset_id.isdigit() else None,
            **_client(request),
        )
    except NotEntitled as error:
        raise Http404(error.message) from error
    except DownloadRefused as error:
        context = {"message": error.message, "back": back}
        return render(request, "downloads/refused.html", context, status=403)
    return redirect(download.url)


@login_required
def download(request: HttpRequest, product_id: int) -> HttpResponse:
    return _download(request, product_id, back=reverse("downloads:list"))


def guest_downloads(request: HttpRequest, token: str) -> HttpResponse:
    try:
        order = links.guest_order(token)
    except links.LinkExpired:
        return _expired(request)
    if order is None:
        raise Http404("No such downloads page.")
    entitlements = selectors.downloads_of(order=order)
    context = {"order": order, "rows": _rows(entitlements), "token": token}
    return render(request, "downloads/guest.html", context)


def guest_download(request: HttpRequest, token: str, product_id: int) -> HttpResponse:
    try:
        order = links.guest_order(token)
    except links.LinkExpired:
        return _expired(request)
    if order is None:
        raise Http404("No such downloads page.")
    back = reverse("downloads:guest", args=[token])
    return _download(request, product_id, order=order, back=back)


def file(request: HttpRequest, token: str) -> FileResponse:
    """A file of the local private folder, behind a signed link that works for five minutes."""
    event_id = event_id_from_link(token)
    event = (
        DownloadEvent.objects.select_related("asset").filter(pk=event_id).first()
        if event_id
        else None
    )
    if event is None:
        raise Http404("This download link has expired: download again from your downloads page.")
    asset = event.asset
    response = FileResponse(
        private_storage().open(asset.file_name, "rb"),
        as_attachment=True,
        filename=asset.filename,
        content_type=asset.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response
