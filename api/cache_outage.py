"""Saying that the cache (Redis) is unreachable: once per outage, and without alarm on a demo's first run."""

from __future__ import annotations

import logging

from django.conf import settings


class CacheOutageLog:
    """Log `message` once per outage of the cache, at WARNING; but at INFO while the demo's embedded Redis has
    not answered yet in this process: `make demo` runs `load_demo` (and the first pages may be asked for)
    before `rundemo` has started it, which is no outage. A Redis of REDIS_URL, or an embedded one that had
    answered, warns. Call `reachable()` after each call that worked, `unreachable()` after each that did not."""

    def __init__(self, logger: logging.Logger, message: str):
        self.logger, self.message = logger, message
        self.answered_once = False
        self.said = False

    def reachable(self) -> None:
        self.answered_once = True
        self.said = False  # the next outage is said again

    def unreachable(self) -> None:
        if self.said:
            return
        self.said = True
        if settings.REDIS_EMBEDDED and not self.answered_once:
            self.logger.info("%s (the demo's embedded Redis has not started yet)", self.message)
        else:
            self.logger.warning("%s", self.message)
