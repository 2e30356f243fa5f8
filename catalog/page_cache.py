"""Shoppers' pages and API reads, cached whole, each until what it shows changes.

An entry depends on *scopes*: names of parts of what the shop shows, such as one product or one
category's lists (`catalog.invalidation` names the catalogue's scopes and says which writes
touch which). Each scope has a version in the cache, a random token that `stale()` replaces
once a write commits. An entry is stored with the versions of its scopes as they were before it
was made, and is served while they all still hold: one round trip to the cache reads the entry
and the versions together. Every entry also depends on `EVERYTHING`, for changes that touch the
whole shop. A version lost from the cache (evicted, a restarted cache) is made anew, which only
makes the entries of its scope stale. Entries expire after `PAGE_CACHE_SECONDS` (0 turns the
cache off).

Staff are never served from the cache: they see unpublished products and more fields. A page's
personal parts (the header's account links and cart count, messages, the CSRF token) are left as
markers in the cached HTML and filled in for each request, so one entry serves every shopper.
Answers say whether they came from the cache in an `X-Cache` header (`hit` or `miss`).
"""

import hashlib
import secrets
from collections.abc import Callable, Iterable
from functools import lru_cache, wraps
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

EVERYTHING = "everything"
CSRF_MARKER = "__csrf_token_hole__"  # no character of it can occur in a CSRF token
SITE_NAV, SITE_NAV_TEMPLATE = "<!--hole:site-nav-->", "_site_nav.html"
MESSAGES = "<!--hole:messages-->"
CACHE_STATUS_HEADER = "X-Cache"


def _version_key(scope: str) -> str:
    return f"scope:{scope}"


def stale(scopes: Iterable[str]) -> None:
    """Give each scope a new version: every entry that depends on one of them is stale.

    Call it once the write has committed (`transaction.on_commit`): before, a request could read
    the old rows and store them under the new version.
    """
    cache.set_many({_version_key(scope): secrets.token_hex(8) for scope in scopes}, timeout=None)


def is_enabled(request: HttpRequest) -> bool:
    """Shoppers' reads are cached; staff's and writes never are."""
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and not request.user.is_staff
    )


def _lookup(kind: str, request: HttpRequest, scopes: Iterable[str]) -> tuple[str, tuple, object]:
    """The entry's key, the current versions of its scopes, and the stored value if it was made
    with those versions (else None): one round trip to the cache."""
    # The full address: scheme and host appear in canonical links and pagination links.
    address = request.build_absolute_uri().encode()
    key = f"{kind}:{hashlib.blake2b(address, digest_size=16).hexdigest()}"
    version_keys = [_version_key(scope) for scope in (EVERYTHING, *scopes)]
    found = cache.get_many([key, *version_keys])
    missing = [name for name in version_keys if name not in found]
    if missing:  # first use of a scope, or its version was lost: a new one, never an old one
        for name in missing:
            cache.add(name, secrets.token_hex(8), timeout=None)
        found.update(cache.get_many(missing))
    versions = tuple(found.get(name) for name in version_keys)
    made_with, value = found.get(key, (None, None))
    return key, versions, value if made_with == versions else None


def _store(key: str, versions: tuple, value) -> None:
    """Keep `value` with the versions read before it was made: if a scope changed meanwhile,
    the entry is stale from the start."""
    cache.set(key, (versions, value), settings.PAGE_CACHE_SECONDS)


# --- Pages -------------------------------------------------------------------------------------


def holes(request: HttpRequest) -> dict:
    """Context processor: while a page is rendered for the cache, its personal parts are markers
    (CSRF tokens here, the header and messages in `catalog.templatetags.page_parts`)."""
    if getattr(request, "page_cache_render", False):
        return {"page_cache_render": True, "csrf_token": CSRF_MARKER}
    return {}


def cached_page(
    scopes: Callable[..., Iterable[str]],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Serve shoppers' GETs of the decorated view from the cache, as long as the scopes that
    `scopes(request, *args, **kwargs)` names hold; only 200 answers are stored."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not is_enabled(request):
                return view(request, *args, **kwargs)
            key, versions, entry = _lookup("page", request, scopes(request, *args, **kwargs))
            if entry is not None:
                return _filled(request, *entry, cache_status="hit")
            request.page_cache_render = True
            try:
                response = view(request, *args, **kwargs)
            finally:  # an error page (404) is rendered as usual, without markers
                request.page_cache_render = False
            entry = (response.content.decode(), response["Content-Type"])
            if response.status_code == 200:  # a page of errors is not kept
                _store(key, versions, entry)
            return _filled(request, *entry, status=response.status_code, cache_status="miss")

        return wrapped

    return decorator


def _filled(
    request: HttpRequest, content: str, content_type: str, *, cache_status: str, status=200
) -> HttpResponse:
    """The page with its markers replaced by this request's header, messages and CSRF token."""
    content = content.replace(SITE_NAV, _site_nav(request)).replace(MESSAGES, _messages(request))
    if CSRF_MARKER in content:
        content = content.replace(CSRF_MARKER, get_token(request))
    response = HttpResponse(content, content_type=content_type, status=status)
    response[CACHE_STATUS_HEADER] = cache_status
    return response


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


def cached_api_json(
    request: Request, build: Callable[[], dict], *, scopes: Iterable[str]
) -> HttpResponse | None:
    """A shopper's JSON answer from the cache while `scopes` hold, or built by `build()`,
    rendered and stored.

    None when the answer is not for the cache (staff, another format than JSON): the caller
    answers as usual.
    """
    if not is_enabled(request) or request.accepted_renderer.format != "json":
        return None
    key, versions, content = _lookup(f"api:{request.accepted_media_type}", request, scopes)
    cache_status = "hit"
    if content is None:
        content, cache_status = JSONRenderer().render(build()), "miss"
        _store(key, versions, content)
    response = HttpResponse(content, content_type="application/json")
    response[CACHE_STATUS_HEADER] = cache_status
    return response
