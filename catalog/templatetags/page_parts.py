"""The parts of every page that belong to the visitor (header links and messages), and the
links every page shares.

While a page is made for the cache (`catalog.page_cache`) they are markers, filled in for each
request it is served to; otherwise they are rendered in the page's own context.
"""

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString, mark_safe

from catalog import page_cache

register = template.Library()


@register.simple_tag(takes_context=True)
def site_nav(context) -> SafeString:
    """The header's links; a signed-out visitor's are rendered once per process."""
    request = context["request"]
    if context.get("page_cache_render"):
        return mark_safe(page_cache.SITE_NAV)
    if request.user.is_authenticated:
        return _render(page_cache.SITE_NAV_TEMPLATE, context)
    count = context.get("cart_item_count", 0)
    return mark_safe(page_cache.visitor_site_nav(request, count() if callable(count) else count))


@register.simple_tag
def fixed_url(name: str) -> str:
    """`{% url name %}` for a page whose address takes no arguments (home, shop, API docs): the
    same on every request, so worked out once per process (and script prefix)."""
    return _fixed_url(name, get_script_prefix())


@lru_cache(maxsize=64)
def _fixed_url(name: str, script_prefix: str) -> str:
    return reverse(name)


@register.simple_tag(takes_context=True)
def page_messages(context) -> SafeString:
    if context.get("page_cache_render"):
        return mark_safe(page_cache.MESSAGES)
    if not context.get("messages"):  # counting them does not mark them as shown
        return ""
    return _render("_messages.html", context)


def _render(name: str, context) -> SafeString:
    return mark_safe(context.template.engine.get_template(name).render(context))
