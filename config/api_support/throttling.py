from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ScopedThrottle(SimpleRateThrottle):
    """One throttle for the whole API: each view names a scope (`throttle_scope`), "general" if not.

    Counts per user when signed in, per client address otherwise, in the default cache (Redis in
    production, so that every web process shares the counts). Rates are read from settings on each
    request, so they can be changed without reloading code.
    """

    default_scope = "general"

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, "throttle_scope", None) or self.default_scope
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def __init__(self) -> None:
        # The parent reads the rate here, before the view (and so the scope) is known.
        pass

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
