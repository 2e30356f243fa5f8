"""Selling files: entitlements from paid orders, counted downloads, short links on S3 (moto's
server) and on the local private folder, guests' emailed links, revocation on refunds."""

import re
import threading
import urllib.error
import urllib.request
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from django.core import mail, signing
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import jwt
from accounts.tests.factories import UserFactory
from downloads import links, services
from downloads.exceptions import DownloadRefused, NotEntitled
from downloads.models import DigitalAsset, DownloadEvent, Entitlement
from downloads.tests.factories import PDF, asset, buy, digital_product
from orders.models import Order
from payments import services as payment_services

pytestmark = pytest.mark.django_db


def api_download(client, product) -> object:
    return client.get(f"/api/v1/downloads/{product.pk}")


def signed_long_ago(monkeypatch, make, seconds: int):
    """Make a signed token as if `seconds` ago (signing reads the clock through time.time)."""
    then = signing.time.time() - seconds
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: then)
        return make()


# --- S3 (moto) ----------------------------------------------------------------------------------


def test_a_buyer_downloads_the_file_through_a_short_presigned_url(s3_private, user, auth_client):
    client, bucket = s3_private
    product = digital_product()
    file = asset(product, filename="care-guide.pdf")
    stored = client.get_object(Bucket=bucket, Key=file.file_name)["Body"].read()
    assert stored == PDF
    buy(product, user=user)

    response = api_download(auth_client, product)

    assert response.status_code == 302
    url = response["Location"]
    query = parse_qs(urlparse(url).query)
    assert url.startswith(f"{client.meta.endpoint_url}/{bucket}/")
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert unquote(query["response-content-disposition"][0]) == (
        'attachment; filename="care-guide.pdf"'
    )
    assert query["X-Amz-Signature"]
    with urllib.request.urlopen(url) as fetched:
        assert fetched.read() == PDF
    unsigned = url.split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned)
    assert refused.value.code == 403
    assert (file.size, file.checksum) == (len(PDF), __import__("hashlib").sha256(PDF).hexdigest())


def test_staff_upload_a_file_in_the_admin_to_the_private_bucket(s3_private, staff_client):
    client, bucket = s3_private
    product = digital_product()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = staff_client.post(
        reverse("admin:downloads_digitalasset_add"),
        {
            "product": product.pk,
            "title": "Sample pack",
            "version": "2",
            "is_active": "on",
            "upload": SimpleUploadedFile("samples.zip", b"PK\x03\x04" + b"0" * 999),
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    asset_row = DigitalAsset.objects.get()
    assert (asset_row.filename, asset_row.size, asset_row.version) == ("samples.zip", 1003, "2")
    assert client.head_object(Bucket=bucket, Key=asset_row.file_name)["ContentLength"] == 1003


# --- Local private folder -------------------------------------------------------------------------


def test_on_local_storage_the_file_streams_behind_a_signed_short_link(client, user, monkeypatch):
    product = digital_product()
    asset(product, filename="care-guide.pdf")
    buy(product, user=user)
    client.force_login(user)

    response = client.get(reverse("downloads:download", args=[product.pk]))
    file = client.get(response.url)

    assert response.status_code == 302
    assert response.url.startswith("/downloads/file/")
    assert file.status_code == 200
    assert file["Content-Disposition"] == 'attachment; filename="care-guide.pdf"'
    assert file["Cache-Control"] == "private, no-store"
    assert b"".join(file.streaming_content) == PDF

    event = DownloadEvent.objects.get()
    old = signed_long_ago(
        monkeypatch,
        lambda: signing.dumps({"event": event.pk}, salt="downloads.file"),
        seconds=301,
    )
    assert client.get(reverse("downloads:file", args=[old])).status_code == 404
    assert client.get(reverse("downloads:file", args=["forged"])).status_code == 404


def test_the_limit_holds_and_the_refusal_says_what_to_do(client, user, auth_client, settings):
    settings.MAX_DOWNLOADS_PER_USER = 3
    product = digital_product(name="Pine care e-book")
    asset(product)
    order = buy(product, user=user)

    statuses = [api_download(auth_client, product).status_code for _ in range(4)]
    refused = api_download(auth_client, product)
    client.force_login(user)
    page = client.get(reverse("downloads:download", args=[product.pk]))

    assert statuses == [302, 302, 302, 403]
    error = refused.json()["error"]
    assert error["code"] == "download_limit_reached"
    assert error["message"] == (
        "You have used all 3 downloads of “Pine care e-book”. Write to us at Evergreen Store "
        f"<shop@example.com>, quoting order {order.number}, and we will give you more."
    )
    assert page.status_code == 403
    assert "You have used all 3 downloads" in page.content.decode()
    assert Entitlement.objects.get().downloads_used == 3
    assert DownloadEvent.objects.count() == 3


def test_a_product_may_allow_more_downloads_and_end_them(user, auth_client):
    product = digital_product(download_limit=5, download_days=1)
    asset(product)
    buy(product, user=user)
    entitlement = Entitlement.objects.get()
    assert entitlement.download_limit == 5

    Entitlement.objects.filter(pk=entitlement.pk).update(
        expires_at=entitlement.created_at - __import__("datetime").timedelta(seconds=1)
    )
    refused = api_download(auth_client, product)

    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "download_expired")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_downloads_with_a_limit_of_three_issue_three_links(
    live_server, user, settings
):
    settings.MAX_DOWNLOADS_PER_USER = 3
    product = digital_product()
    asset(product)
    buy(product, user=user)
    token = jwt.tokens_for_user(user=user)["access"]
    barrier = threading.Barrier(20)
    statuses = []

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def download() -> None:
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/downloads/{product.pk}",
            headers={"Authorization": f"Bearer {token}"},
        )
        barrier.wait()
        try:
            opener.open(request, timeout=30)
        except urllib.error.HTTPError as answer:
            statuses.append(answer.code)

    threads = [threading.Thread(target=download) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [302] * 3 + [403] * 17
    assert Entitlement.objects.get().downloads_used == 3
    assert DownloadEvent.objects.count() == 3


# --- Who may download -----------------------------------------------------------------------------


def test_nobody_downloads_what_they_did_not_buy(user, auth_client):
    product = digital_product()
    asset(product)
    buy(product, user=UserFactory())  # somebody else's purchase
    unpaid_product = digital_product()
    asset(unpaid_product)
    buy(unpaid_product, user=user, pay=False)

    assert api_download(auth_client, product).status_code == 404
    assert api_download(auth_client, unpaid_product).status_code == 404
    assert auth_client.get("/api/v1/user/download-info").json()["count"] == 0
    assert APIClient().get(f"/api/v1/downloads/{product.pk}").status_code == 401


def test_an_unverified_guest_order_gives_no_download():
    product = digital_product()
    asset(product)
    order = buy(product, email="guest@example.com")
    Order.objects.filter(pk=order.pk).update(email_verified_at=None)

    with pytest.raises(NotEntitled):
        services.download_start(product_id=product.pk, order=order)


def test_a_refund_ends_the_downloads(user, auth_client, staff, emails_sent):
    product = digital_product()
    asset(product)
    order = buy(product, user=user)
    refund = payment_services.refund_request(order=order, user=user, reason="Wrong book")

    with emails_sent():
        payment_services.refund_approve(refund=refund, user=staff)

    response = api_download(auth_client, product)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "download_revoked")
    info = auth_client.get("/api/v1/user/download-info").json()["results"]
    assert [row["state"] for row in info] == ["revoked"]


def test_refunding_one_line_ends_only_its_downloads(user, staff, emails_sent):
    from orders import services as order_services
    from orders.tests.factories import CartItemFactory

    book, pack = digital_product(name="Book"), digital_product(name="Pack")
    asset(book)
    asset(pack)
    cart = order_services.cart_get_or_create(user=user)
    CartItemFactory(cart=cart, variant=book.variants.get())
    CartItemFactory(cart=cart, variant=pack.variants.get())
    order = order_services.order_place(cart=cart, email=user.email, user=user)
    with emails_sent():
        payment_services.order_pay_manually(order=order, user=staff)
    book_line = order.lines.get(variant__product=book)
    refund = payment_services.refund_request(
        order=order, user=user, reason="x", lines=[{"line": book_line.pk, "quantity": 1}]
    )

    with emails_sent():
        payment_services.refund_approve(refund=refund, user=staff)

    with pytest.raises(DownloadRefused):
        services.download_start(product_id=book.pk, user=user)
    assert services.download_start(product_id=pack.pk, user=user).asset.product == pack


# --- Granting -------------------------------------------------------------------------------------


def test_paying_grants_once_and_delivers_a_downloads_only_order(user):
    product = digital_product()
    asset(product)

    order = buy(product, user=user)
    again = services.entitlements_grant_for_order(order=order)

    assert Entitlement.objects.count() == 1
    assert again == [Entitlement.objects.get()]
    assert Order.objects.get(pk=order.pk).status == Order.Status.DELIVERED
    assert services.entitlements_grant_missing() == 0


def test_missed_grants_are_caught_up(user):
    product = digital_product()
    asset(product)
    order = buy(product, user=user)
    Entitlement.objects.all().delete()

    assert services.entitlements_grant_missing() == 1
    assert Entitlement.objects.get().order == order


# --- Guests ---------------------------------------------------------------------------------------


def test_a_guest_downloads_from_the_emailed_link_until_it_expires(client, monkeypatch):
    product = digital_product(name="Sample pack")
    asset(product, filename="samples.pdf")
    mail.outbox.clear()

    order = buy(product, email="guest@example.com")  # runs the after-commit emails too

    (paid,) = [m for m in mail.outbox if "payment received" in m.subject]
    link = re.search(r"https?://\S+/downloads/order/\S+/", paid.body).group(0)
    page = client.get(urlparse(link).path)
    assert page.status_code == 200
    assert "Sample pack" in page.content.decode()
    download = client.get(
        reverse("downloads:guest-download", args=[links.guest_token(order), product.pk])
    )
    assert download.status_code == 302
    assert b"".join(client.get(download.url).streaming_content) == PDF

    old = signed_long_ago(monkeypatch, lambda: links.guest_token(order), seconds=8 * 86400)
    expired = client.get(reverse("downloads:guest", args=[old]))
    expired_download = client.get(reverse("downloads:guest-download", args=[old, product.pk]))
    assert expired.status_code == expired_download.status_code == 410
    assert "This downloads link has expired" in expired.content.decode()
    assert client.get(reverse("downloads:guest", args=["forged"])).status_code == 404


# --- Listing and admin ----------------------------------------------------------------------------


def test_download_info_lists_files_and_downloads_left(user, auth_client):
    product = digital_product(name="Templates")
    first = asset(product, title="Templates (A4)", filename="a4.zip")
    asset(product, title="Templates (Letter)", filename="letter.zip")
    order = buy(product, user=user)
    api_download(auth_client, product)

    body = auth_client.get("/api/v1/user/download-info").json()

    (row,) = body["results"]
    assert (row["order"], row["downloads_left"], row["downloads_used"], row["state"]) == (
        order.number,
        2,
        1,
        "active",
    )
    assert [f["filename"] for f in row["files"]] == ["a4.zip", "letter.zip"]
    assert row["files"][0]["checksum"] == first.checksum
    assert row["download_url"] == f"http://testserver/api/v1/downloads/{product.pk}"


def test_my_downloads_page_lists_what_was_bought(client, user):
    product = digital_product(name="Moss guide")
    asset(product)
    buy(product, user=user)
    client.force_login(user)

    page = client.get(reverse("downloads:list"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Moss guide" in html
    assert "3 of 3 downloads left" in html
    assert reverse("downloads:download", args=[product.pk]) in html


def test_the_order_page_points_to_the_downloads_once_paid_and_not_after_a_refund(
    client, user, staff, emails_sent
):
    product = digital_product()
    asset(product)
    client.force_login(user)
    link = f'href="{reverse("downloads:list")}">Go to my downloads'

    unpaid = buy(product, user=user, pay=False)
    assert link not in client.get(unpaid.get_absolute_url()).content.decode()

    paid = buy(product, user=user)
    assert link in client.get(paid.get_absolute_url()).content.decode()

    refund = payment_services.refund_request(order=paid, user=user, reason="Bought it twice")
    with emails_sent():
        payment_services.refund_approve(refund=refund, user=staff)
    paid.refresh_from_db()
    assert paid.status == Order.Status.REFUNDED
    assert link not in client.get(paid.get_absolute_url()).content.decode()


def test_staff_grant_reset_and_revoke_in_the_admin(staff_client, user):
    product = digital_product()
    asset(product)
    add = staff_client.post(
        reverse("admin:downloads_entitlement_add"),
        {
            "product": product.pk,
            "user": user.pk,
            "email": "",
            "download_limit": "",
            "expires_at": "",
        },
    )
    assert add.status_code == 302
    entitlement = Entitlement.objects.get()
    assert (entitlement.user, entitlement.email, entitlement.download_limit) == (
        user,
        user.email,
        3,
    )
    services.download_start(product_id=product.pk, user=user)

    changelist = reverse("admin:downloads_entitlement_changelist")
    staff_client.post(
        changelist, {"action": "reset_downloads", "_selected_action": [entitlement.pk]}
    )
    assert Entitlement.objects.get().downloads_used == 0
    staff_client.post(changelist, {"action": "revoke", "_selected_action": [entitlement.pk]})
    with pytest.raises(DownloadRefused):
        services.download_start(product_id=product.pk, user=user)
    for url in (
        changelist + f"?q={user.email}",
        reverse("admin:downloads_entitlement_change", args=[entitlement.pk]),
        reverse("admin:downloads_downloadevent_changelist"),
        reverse("admin:downloads_digitalasset_changelist"),
        reverse("admin:downloads_chapter_changelist"),
        reverse("admin:downloads_chapter_add"),
    ):
        assert staff_client.get(url).status_code == 200, url


def test_chapters_are_rendered_and_sanitized():
    html = services.render_markdown(
        "# Title\n\nSome *care*.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))"
        '\n\n<img src="x" onerror="alert(1)">'
    )

    assert "<h1>Title</h1>" in html
    assert "<em>care</em>" in html
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onerror" not in html
