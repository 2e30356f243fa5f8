"""The e-book reader: the pages (who may read, where the book opens, what a chapter shows) and
the API (chapters, reading progress and its validation). Query counts of a chapter page do not
grow with the book."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from downloads import services
from downloads.ebook_views import numbered_blocks
from downloads.models import Chapter, Entitlement, ReadingProgress
from downloads.tests.factories import buy, chapters, digital_product
from payments import services as payment_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    product = digital_product(name="The bonsai year")
    chapters(product, count=3, paragraphs=12)
    return product


@pytest.fixture
def reader(user, book):
    buy(book, user=user)
    return user


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def reader_api(reader) -> APIClient:
    api = APIClient()
    api.force_authenticate(reader)
    return api


def ebook_url(product) -> str:
    return reverse("downloads:ebook", args=[product.pk])


def chapter_url(product, position: int) -> str:
    return reverse("downloads:chapter", args=[product.pk, position])


def api(product, rest: str) -> str:
    return f"/api/v1/ebooks/{product.pk}/{rest}"


def save_progress(user, product, position: int, block: int) -> ReadingProgress:
    chapter = Chapter.objects.get(product=product, position=position)
    return services.reading_progress_save(
        user=user, product=product, chapter=chapter, position=block
    )


# --- Who may read ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, book):
    for url in (ebook_url(book), chapter_url(book, 1)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_members_who_did_not_buy_the_book_get_404(client, book, reader):
    client.force_login(UserFactory())
    assert client.get(ebook_url(book)).status_code == 404
    assert client.get(chapter_url(book, 1)).status_code == 404


def test_an_unpaid_order_gives_no_reading(client, user, book):
    buy(book, user=user, pay=False)
    client.force_login(user)
    assert client.get(chapter_url(book, 1)).status_code == 404


def test_an_expired_purchase_gives_no_reading(reader_client, reader, book):
    Entitlement.objects.filter(user=reader).update(expires_at=timezone.now() - timedelta(days=1))
    assert reader_client.get(ebook_url(book)).status_code == 404
    assert reader_client.get(chapter_url(book, 2)).status_code == 404


def test_a_refund_ends_the_reading(client, user, book, staff, emails_sent):
    order = buy(book, user=user)
    refund = payment_services.refund_request(order=order, user=user, reason="Not for me")
    with emails_sent():
        payment_services.refund_approve(refund=refund, user=staff)
    assert Entitlement.objects.get(user=user).revoked_at is not None
    client.force_login(user)

    assert client.get(chapter_url(book, 1)).status_code == 404
    api_client = APIClient()
    api_client.force_authenticate(user)
    response = api_client.get(api(book, "progress"))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_a_product_without_chapters_is_no_ebook(client, user):
    product = digital_product(name="Just a PDF")
    buy(product, user=user)
    client.force_login(user)
    assert client.get(ebook_url(product)).status_code == 404


def test_an_unknown_chapter_is_404(reader_client, book):
    assert reader_client.get(chapter_url(book, 9)).status_code == 404


# --- Where the book opens -------------------------------------------------------------------------


def test_a_new_reader_starts_at_the_first_chapter(reader_client, book):
    response = reader_client.get(ebook_url(book))
    assert response.status_code == 302
    assert response.url == chapter_url(book, 1)


def test_a_returning_reader_lands_on_the_saved_block(reader_client, reader, book):
    save_progress(reader, book, position=2, block=7)

    response = reader_client.get(ebook_url(book))
    assert response.url == chapter_url(book, 2) + "#block-7"

    page = reader_client.get(response.url).content.decode()
    # The fragment names a real block, and the chapter URL alone also knows where to go.
    assert '<p id="block-7">Paragraph 7 of chapter 2' in page
    assert 'data-resume="7"' in page


def test_another_chapter_opens_at_its_top(reader_client, reader, book):
    save_progress(reader, book, position=2, block=7)
    page = reader_client.get(chapter_url(book, 3)).content.decode()
    assert "data-resume" not in page


# --- What a chapter shows -------------------------------------------------------------------------


def test_a_chapter_shows_its_text_contents_way_on_and_progress(reader_client, book):
    response = reader_client.get(chapter_url(book, 2))
    assert response.status_code == 200
    page = response.content.decode()

    assert '<h1 class="reader__title" id="chapter-title">Chapter 2</h1>' in page
    assert "The bonsai year" in page
    assert '<h2 id="block-0">Chapter 2</h2>' in page
    assert "Paragraph 12 of chapter 2" in page
    toc = re.findall(r'class="reader__toc-link" href="([^"]+)"( aria-current="page")?', page)
    assert toc == [
        (chapter_url(book, 1), ""),
        (chapter_url(book, 2), ' aria-current="page"'),
        (chapter_url(book, 3), ""),
    ]
    assert f'href="{chapter_url(book, 1)}" rel="prev"' in page
    assert f'href="{chapter_url(book, 3)}" rel="next"' in page
    assert "Chapter 2 of 3" in page
    # Before any progress: a third of the book lies before chapter 2.
    assert "<span data-reader-percent>33</span>%" in page
    assert 'value="33.33"' in page
    assert f'data-progress-url="{api(book, "progress")}"' in page


def test_the_first_and_last_chapters_have_one_way_on(reader_client, book):
    first = reader_client.get(chapter_url(book, 1)).content.decode()
    assert 'rel="prev"' not in first
    assert 'rel="next"' in first
    last = reader_client.get(chapter_url(book, 3)).content.decode()
    assert 'rel="prev"' in last
    assert 'rel="next"' not in last
    assert "The end of “The bonsai year”." in last


def test_the_saved_percent_is_shown_in_its_chapter(reader_client, reader, book):
    chapter = Chapter.objects.get(product=book, position=3)
    services.reading_progress_save(
        user=reader, product=book, chapter=chapter, position=4, percent=Decimal("81.5")
    )
    page = reader_client.get(chapter_url(book, 3)).content.decode()
    assert "<span data-reader-percent>82</span>%" in page
    assert 'value="81.50"' in page


def test_the_chapter_text_is_sanitized(reader_client, book):
    chapter = Chapter.objects.get(product=book, position=1)
    chapter.body = 'Hello <script>alert("x")</script> <a href="#" onclick="steal()">here</a>'
    services.chapter_save(chapter=chapter)

    page = reader_client.get(chapter_url(book, 1)).content.decode()
    assert "alert(" not in page
    assert "steal()" not in page


def test_the_reader_script_gets_what_it_needs(reader_client, book):
    page = reader_client.get(chapter_url(book, 2)).content.decode()
    assert "/static/js/reader.js" in page
    assert 'data-chapter="2"' in page
    assert 'data-chapter-index="1"' in page
    assert 'data-chapters="3"' in page
    assert re.search(r'data-csrf="\w+"', page)


def test_a_chapter_page_queries_the_same_however_long_the_book(client, user):
    short, long = digital_product(name="Short"), digital_product(name="Long")
    chapters(short, count=2, paragraphs=3)
    chapters(long, count=30, paragraphs=3)
    for product in (short, long):
        buy(product, user=user)
        save_progress(user, product, position=2, block=1)
    client.force_login(user)
    client.get(chapter_url(short, 1))  # the session and its caches are warm

    counts = []
    for product in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(chapter_url(product, 2)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 10


def test_blocks_are_numbered_at_the_top_level_only():
    html = "<h2>A</h2>\n<p>x<br>y <em>z</em></p>\n<hr>\n<ul>\n<li>i</li>\n</ul>\n<p>w</p>"
    assert numbered_blocks(html) == (
        '<h2 id="block-0">A</h2>\n<p id="block-1">x<br>y <em>z</em></p>\n<hr id="block-2">\n'
        '<ul id="block-3">\n<li>i</li>\n</ul>\n<p id="block-4">w</p>'
    )


# --- API: chapters --------------------------------------------------------------------------------


def test_the_api_lists_the_chapters_in_order(reader_api, book):
    response = reader_api.get(api(book, "chapters"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["results"] == [
        {"position": 1, "title": "Chapter 1"},
        {"position": 2, "title": "Chapter 2"},
        {"position": 3, "title": "Chapter 3"},
    ]


def test_the_api_gives_a_chapter_with_its_neighbours(reader_api, book):
    body = reader_api.get(api(book, "chapters/2")).json()
    assert (body["position"], body["title"], body["previous"], body["next"]) == (
        2,
        "Chapter 2",
        1,
        3,
    )
    assert body["html"].startswith("<h2>Chapter 2</h2>")

    first = reader_api.get(api(book, "chapters/1")).json()
    last = reader_api.get(api(book, "chapters/3")).json()
    assert (first["previous"], first["next"], last["previous"], last["next"]) == (None, 2, 2, None)
    assert reader_api.get(api(book, "chapters/4")).status_code == 404


def test_the_api_hides_books_from_who_did_not_buy_them(book, reader):
    other = APIClient()
    other.force_authenticate(UserFactory())
    for rest in ("chapters", "chapters/1", "progress"):
        response = other.get(api(book, rest))
        assert response.status_code == 404, rest
        assert response.json()["error"]["code"] == "not_found"
    response = other.put(api(book, "progress"), {"chapter": 1, "position": 0})
    assert response.status_code == 404
    assert not ReadingProgress.objects.exists()


def test_the_api_needs_a_member(api_client, book):
    assert api_client.get(api(book, "chapters")).status_code == 401
    assert api_client.put(api(book, "progress"), {"chapter": 1, "position": 0}).status_code == 401


# --- API: progress --------------------------------------------------------------------------------


def test_progress_starts_at_the_beginning(reader_api, book):
    body = reader_api.get(api(book, "progress")).json()
    assert body == {"chapter": 1, "position": 0, "percent": "0.00", "updated_at": None}


def test_progress_is_saved_and_read_back(reader_api, reader, book):
    response = reader_api.put(api(book, "progress"), {"chapter": 2, "position": 5})
    assert response.status_code == 200
    body = response.json()
    # Without a percent the service works it out from the chapter: one of three read.
    assert (body["chapter"], body["position"], body["percent"]) == (2, 5, "33.33")
    assert body["updated_at"]

    reader_api.put(api(book, "progress"), {"chapter": 3, "position": 2, "percent": 70.126})
    assert reader_api.get(api(book, "progress")).json()["percent"] == "70.13"
    progress = ReadingProgress.objects.get(user=reader, product=book)
    assert (progress.chapter.position, progress.position, progress.percent) == (
        3,
        2,
        Decimal("70.13"),
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"chapter": 9, "position": 0}, "chapter"),
        ({"chapter": 0, "position": 0}, "chapter"),
        ({"position": 0}, "chapter"),
        ({"chapter": 1, "position": -1}, "position"),
        ({"chapter": 1, "position": "top"}, "position"),
        ({"chapter": 1}, "position"),
        ({"chapter": 1, "position": 0, "percent": 100.5}, "percent"),
        ({"chapter": 1, "position": 0, "percent": -1}, "percent"),
        ({"chapter": 1, "position": 0, "percent": "NaN"}, "percent"),
    ],
)
def test_invalid_progress_is_refused_field_by_field(reader_api, book, data, field):
    response = reader_api.put(api(book, "progress"), data)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert not ReadingProgress.objects.exists()


def test_a_chapter_of_another_book_is_an_unknown_chapter(reader_api, user, book):
    other = digital_product(name="Other book")
    chapters(other, count=5, paragraphs=1)
    buy(other, user=user)
    response = reader_api.put(api(book, "progress"), {"chapter": 5, "position": 0})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"chapter": ["This book has no such chapter."]}


def test_the_page_saves_progress_with_the_session_and_its_csrf_token(reader, book):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(reader)
    page = browser.get(chapter_url(book, 2))
    token = re.search(r'data-csrf="(\w+)"', page.content.decode()).group(1)

    refused = browser.put(api(book, "progress"), {"chapter": 2, "position": 3})
    assert refused.status_code == 403
    saved = browser.put(
        api(book, "progress"), {"chapter": 2, "position": 3}, HTTP_X_CSRFTOKEN=token
    )
    assert saved.status_code == 200
    assert ReadingProgress.objects.get(user=reader).position == 3
    # Back on the book: it opens where the reader stopped.
    assert browser.get(ebook_url(book)).url == chapter_url(book, 2) + "#block-3"


def test_progress_is_one_row_per_reader_and_book(reader_api, reader, book):
    for block in (1, 2, 3):
        reader_api.put(api(book, "progress"), {"chapter": 1, "position": block})
    assert ReadingProgress.objects.filter(user=reader, product=book).count() == 1
