"""Shoppers' catalogue pages and API reads, cached whole until the catalogue changes.

Every entry is stored with the catalogue's *generation*, a number in the cache that every write
a shopper could see bumps after it commits: products, variants (prices, stock), pictures, 3D
models, categories, tags (see `catalog.receivers` and `catalog_changed`). An entry of an older
generation is stale, so a staff edit shows on the next request; both are read in one round trip,
and entries are replaced in place or expire (`PAGE_CACHE_SECONDS`, 0 turns the cache off).

Staff are never served from the cache: they see unpublished products and more fields. A page's
personal parts (the header's account links and cart count, messages, the CSRF token) are left as
markers in the cached HTML and filled in for each request, so one entry serves every shopper.
"""

import hashlib
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

GENERATION_KEY = "catalog:generation"
CSRF_MARKER = "__csrf_token_hole__"  # no character of it can occur in a CSRF token
SITE_NAV, SITE_NAV_TEMPLATE = "<!--hole:site-nav-->", "_site_nav.html"
MESSAGES = "<!--hole:messages-->"


def generation() -> int:
    """The catalogue's current generation (started from the clock, so a lost key never goes back
    to a number whose entries might still be stored)."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        value = cache.get(GENERATION_KEY)
    return value


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # the key is gone (evicted, or the cache restarted)
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)


def catalog_changed() -> None:
    """Make every cached page and API answer stale, once the current transaction commits.

    Bumping before the commit would let a request that reads the old rows store them under the
    new generation. Within one transaction the bump is registered once, whatever the number of
    rows written (an import of thousands of products costs one bump).
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        callback is _bump for _, callback, _ in connection.run_on_commit
    ):
        return
    transaction.on_commit(_bump)


def is_enabled(request: HttpRequest) -> bool:
    """Shoppers' reads are cached; staff's and writes never are."""
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and not request.user.is_staff
    )


def _lookup(kind: str, request: HttpRequest) -> tuple[str, int, object]:
    """The entry's key, the current generation, and the stored value if it was made in that
    generation (else None): one round trip to the cache."""
    # The full address: scheme and host appear in canonical links and pagination links.
    address = request.build_absolute_uri().encode()
    key = f"{kind}:{hashlib.blake2b(address, digest_size=16).hexdigest()}"
    found = cache.get_many([GENERATION_KEY, key])
    current = found.get(GENERATION_KEY) or generation()
    made_in, value = found.get(key, (None, None))
    return key, current, value if made_in == current else None


def _store(key: str, made_in: int, value) -> None:
    """Keep `value` with the generation read before it was made: if the catalogue changed
    meanwhile, the entry is stale from the start."""
    cache.set(key, (made_in, value), settings.PAGE_CACHE_SECONDS)


# --- Pages -------------------------------------------------------------------------------------


def holes(request: HttpRequest) -> dict:
    """Context processor: while a page is rendered for the cache, its personal parts are markers
    (CSRF tokens here, the header and messages in `catalog.templatetags.page_parts`)."""
    if getattr(request, "page_cache_render", False):
        return {"page_cache_render": True, "csrf_token": CSRF_MARKER}
    return {}


def cached_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve a shopper's GET of `view` from the cache; only 200 answers are stored."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_enabled(request):
            return view(request, *args, **kwargs)
        key, current, entry = _lookup("page", request)
        if entry is None:
            request.page_cache_render = True
            try:
                response = view(request, *args, **kwargs)
            finally:  # an error page (404) is rendered as usual, without markers
                request.page_cache_render = False
            entry = (response.content.decode(), response["Content-Type"])
            if response.status_code != 200:  # a page of errors is not kept
                return _filled(request, *entry, status=response.status_code)
            _store(key, current, entry)
        return _filled(request, *entry)

    return wrapped


def _filled(request: HttpRequest, content: str, content_type: str, status=200) -> HttpResponse:
    """The page with its markers replaced by this request's header, messages and CSRF token."""
    content = content.replace(SITE_NAV, _site_nav(request)).replace(MESSAGES, _messages(request))
    if CSRF_MARKER in content:
        content = content.replace(CSRF_MARKER, get_token(request))
    return HttpResponse(content, content_type=content_type, status=status)


def _site_nav(request: HttpRequest) -> str:
    if request.user.is_authenticated:  # names the member and holds a CSRF token
        return render_to_string(SITE_NAV_TEMPLATE, request=request)
    # Imported here: orders builds on the catalogue, not the other way round.
    from orders.context_processors import cart_item_count

    return visitor_site_nav(request, cart_item_count(request))


def visitor_site_nav(request: HttpRequest, cart_item_count: int) -> str:
    """A signed-out visitor's header links on this page."""
    match = request.resolver_match
    return _visitor_site_nav(
        match.view_name if match else "",
        match.namespace if match else "",
        cart_item_count,
        get_script_prefix(),
    )


@lru_cache(maxsize=256)
def _visitor_site_nav(
    view_name: str, namespace: str, cart_item_count: int, script_prefix: str
) -> str:
    """A signed-out visitor's header links depend on nothing else (the links on the script
    prefix, like `fixed_url`): rendered once per process."""
    match = SimpleNamespace(view_name=view_name, namespace=namespace)
    context = {
        "request": SimpleNamespace(resolver_match=match),
        "user": AnonymousUser(),
        "cart_item_count": cart_item_count,
    }
    return render_to_string(SITE_NAV_TEMPLATE, context)


def _messages(request: HttpRequest) -> str:
    if not len(get_messages(request)):  # counting does not mark them as shown
        return ""
    return render_to_string("_messages.html", request=request)


# --- API ---------------------------------------------------------------------------------------


def cached_api_json(request: Request, build: Callable[[], dict]) -> HttpResponse | None:
    """A shopper's JSON answer from the cache, or built by `build()`, rendered and stored.

    None when the answer is not for the cache (staff, another format than JSON): the caller
    answers as usual.
    """
    if not is_enabled(request) or request.accepted_renderer.format != "json":
        return None
    key, current, content = _lookup(f"api:{request.accepted_media_type}", request)
    if content is None:
        content = JSONRenderer().render(build())
        _store(key, current, content)
    return HttpResponse(content, content_type="application/json")
