import uuid

from django.core.cache import cache, caches
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

# A sliding window of request times in a sorted set, checked and updated in one step: drop the
# times older than the window, refuse when it is full (answering the oldest time, for
# Retry-After), else record this request.
SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return false
"""


class ScopedThrottle(SimpleRateThrottle):
    """One throttle for the whole API: each view names a scope (`throttle_scope`), "general" if not.

    Counts per user when signed in, per client address otherwise, in the default cache, so that
    every web process shares the counts. On Redis the count is one atomic script: one round trip,
    and two processes cannot both let through the last allowed request (DRF's read-then-write
    of a list can). Rates are read from settings on each request, so they can be changed without
    reloading code.
    """

    default_scope = "general"
    _script = None

    def __init__(self) -> None:
        # The parent reads the rate here, before the view (and so the scope) is known.
        self.oldest = None

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, "throttle_scope", None) or self.default_scope
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        script = self._redis_script()
        if script is None:
            return super().allow_request(request, view)
        key = self.get_cache_key(request, view)
        self.now = self.timer()
        oldest = script(
            keys=[cache.make_key(key)],
            args=[self.now, self.duration, self.num_requests, f"{self.now}:{uuid.uuid4().hex}"],
        )
        if oldest is None:
            return True
        self.oldest = float(oldest)
        return False

    def wait(self) -> float | None:
        if self.oldest is None:
            return super().wait()
        # The oldest request may have been timed a moment after this one (they run at once):
        # the wait is never longer than the window.
        return min(max(self.duration - (self.now - self.oldest), 1.0), float(self.duration))

    @classmethod
    def _redis_script(cls):
        """The sliding-window script on the cache's Redis; None on another cache backend."""
        if cls._script is None and type(caches["default"]).__module__.startswith("django_redis"):
            from django_redis import get_redis_connection

            cls._script = get_redis_connection("default").register_script(SLIDING_WINDOW)
        return cls._script

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
