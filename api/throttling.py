"""Rate limits per API key (DRF throttling on Django's cache, which is Redis)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from .authentication import request_key
from .cache_outage import CacheOutageLog

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading: types only
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)
outage = CacheOutageLog(logger, "API rate limits are not counted: the cache is unreachable")


class ClientKeyThrottle(SimpleRateThrottle):
    """`API_THROTTLE_RATE` calls per key (DEFAULT_THROTTLE_RATES["api_key"]). With Redis away, calls are let
    through, said once per outage: a limit that cannot be counted must not turn every call into an error."""

    scope = "api_key"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        key = request_key(request)
        if key is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": key.prefix}

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            allowed = super().allow_request(request, view)
        except RedisError:
            outage.unreachable()
            return True
        outage.reachable()
        return allowed
