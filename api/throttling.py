"""Rate limits per API key (DRF throttling on Django's cache, which is Redis)."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from .cache_outage import CacheOutageLog

logger = logging.getLogger(__name__)
outage = CacheOutageLog(logger, "API rate limits are not counted: the cache is unreachable")


class ClientKeyThrottle(SimpleRateThrottle):
    """`API_THROTTLE_RATE` calls per key (DEFAULT_THROTTLE_RATES["api_key"]). With Redis away, calls are let
    through, said once per outage: a limit that cannot be counted must not turn every call into an error."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if request.auth is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}

    def allow_request(self, request, view):
        try:
            allowed = super().allow_request(request, view)
        except RedisError:
            outage.unreachable()
            return True
        outage.reachable()
        return allowed
