"""The e-book reader: a bought e-book read online, chapter by chapter, reopening where the member
stopped.

Each top-level block of a chapter (heading, paragraph, list...) gets the id `block-<n>`, n counted
from 0 like the `position` of ReadingProgress, so a link to `#block-<n>` lands on it even
without JavaScript; static/js/reader.js saves the block at the top of the screen as one reads.
"""

from decimal import Decimal
from html.parser import HTMLParser

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe

from catalog.models import Product
from downloads import selectors
from downloads.exceptions import NotEntitled
from downloads.models import Chapter

BLOCK_ID = "block-{}"
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


def _readable(request: HttpRequest, product_id: int) -> Product:
    try:
        return selectors.ebook_for_reader(user=request.user, product_id=product_id)
    except NotEntitled as error:
        raise Http404(error.message) from error


def chapter_url(product_id: int, position: int, block: int = 0) -> str:
    url = reverse("downloads:chapter", args=[product_id, position])
    return f"{url}#{BLOCK_ID.format(block)}" if block else url


@login_required
def ebook(request: HttpRequest, product_id: int) -> HttpResponse:
    """Open the book where the member stopped, else at its first chapter."""
    product = _readable(request, product_id)
    progress = selectors.progress_of(user=request.user, product=product)
    if progress is not None:
        return redirect(chapter_url(product.pk, progress.chapter.position, progress.position))
    first = selectors.chapters_of(product).values_list("position", flat=True).first()
    return redirect(chapter_url(product.pk, first))


@login_required
def chapter(request: HttpRequest, product_id: int, position: int) -> HttpResponse:
    product = _readable(request, product_id)
    # The contents need only titles: the one body shown is read on its own.
    contents = list(selectors.chapters_of(product).only("pk", "position", "title"))
    index = next((i for i, c in enumerate(contents) if c.position == position), None)
    if index is None:
        raise Http404("This book has no such chapter.")
    current = Chapter.objects.only("pk", "position", "title", "body_html").get(
        pk=contents[index].pk
    )
    progress = selectors.progress_of(user=request.user, product=product)
    here = progress is not None and progress.chapter_id == current.pk
    context = {
        "product": product,
        "chapter": current,
        "body": mark_safe(numbered_blocks(current.body_html)),  # sanitized when saved
        "contents": contents,
        "previous": contents[index - 1] if index > 0 else None,
        "next": contents[index + 1] if index + 1 < len(contents) else None,
        "index": index,
        "count": len(contents),
        "percent": progress.percent if here else _start_percent(index, len(contents)),
        "resume": progress.position if here else None,
    }
    return render(request, "downloads/ebook.html", context)


def _start_percent(index: int, count: int) -> Decimal:
    """How much of the book lies before this chapter (as the service counts it)."""
    return Decimal(100 * index / max(count, 1)).quantize(Decimal("0.01"))


class _TopLevelTags(HTMLParser):
    """Finds the start tags of the top-level elements of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.depth = 0
        self.starts: list[tuple[tuple[int, int], str]] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if self.depth == 0:
            self.starts.append((self.getpos(), tag))
        if tag not in VOID_ELEMENTS:
            self.depth += 1

    def handle_startendtag(self, tag: str, attrs) -> None:
        if self.depth == 0:
            self.starts.append((self.getpos(), tag))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_ELEMENTS:
            self.depth = max(self.depth - 1, 0)


def numbered_blocks(html: str) -> str:
    """Give each top-level element of sanitized HTML the id `block-<n>` (the sanitizer strips
    ids, so there is none to clash with)."""
    parser = _TopLevelTags()
    parser.feed(html)
    parser.close()
    line_starts = [0]  # where each line begins; the parser counts lines by "\n" only
    for line in html.split("\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    pieces, done = [], 0
    for n, ((line, column), tag) in enumerate(parser.starts):
        name_end = line_starts[line - 1] + column + 1 + len(tag)
        pieces += [html[done:name_end], f' id="{BLOCK_ID.format(n)}"']
        done = name_end
    pieces.append(html[done:])
    return "".join(pieces)
