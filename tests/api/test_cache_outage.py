"""The cache being away is said once per outage, and not as a warning while the demo's Redis is starting."""

import logging

import pytest
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from api import throttling
from api.cache_outage import CacheOutageLog
from api.throttling import ClientKeyThrottle

logger = logging.getLogger("tests.cache_outage")


def said(caplog) -> list[tuple[int, str]]:
    return [(record.levelno, record.getMessage()) for record in caplog.records if record.name == logger.name]


def test_a_first_run_of_the_demo_is_told_quietly_and_once(settings, caplog):
    settings.REDIS_EMBEDDED = True
    outage = CacheOutageLog(logger, "the cache is unreachable")
    with caplog.at_level(logging.INFO, logger=logger.name):
        for _call in range(5):  # load_demo saving rows before rundemo has started the embedded Redis
            outage.unreachable()
    assert said(caplog) == [
        (logging.INFO, "the cache is unreachable (the demo's embedded Redis has not started yet)")
    ]


def test_a_real_outage_warns_once_and_again_after_the_cache_came_back(settings, caplog):
    settings.REDIS_EMBEDDED = True
    outage = CacheOutageLog(logger, "the cache is unreachable")
    with caplog.at_level(logging.INFO, logger=logger.name):
        outage.reachable()  # it had answered: now its going away is an outage
        outage.unreachable()
        outage.unreachable()
        outage.reachable()
        outage.unreachable()
    assert said(caplog) == [(logging.WARNING, "the cache is unreachable")] * 2


def test_a_redis_of_redis_url_warns_from_the_first_failure(settings, caplog):
    settings.REDIS_EMBEDDED = False
    outage = CacheOutageLog(logger, "the cache is unreachable")
    with caplog.at_level(logging.INFO, logger=logger.name):
        outage.unreachable()
    assert said(caplog) == [(logging.WARNING, "the cache is unreachable")]


def test_the_api_throttle_lets_calls_through_and_says_so_once(settings, caplog, monkeypatch):
    settings.REDIS_EMBEDDED = False
    monkeypatch.setattr(throttling, "outage", CacheOutageLog(throttling.logger, throttling.outage.message))

    def away(self, request, view):
        raise RedisError("connection refused")

    monkeypatch.setattr(SimpleRateThrottle, "allow_request", away)
    with caplog.at_level(logging.INFO, logger="api.throttling"):
        assert all(ClientKeyThrottle().allow_request(None, None) for _call in range(3))
    warnings = [r for r in caplog.records if r.name == "api.throttling" and r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["API rate limits are not counted: the cache is unreachable"]


@pytest.mark.django_db
def test_load_demo_before_the_demos_redis_starts_does_not_warn(settings, caplog, monkeypatch):
    from storefront import catalogue_cache

    settings.REDIS_EMBEDDED = True
    monkeypatch.setattr(catalogue_cache, "outage", CacheOutageLog(catalogue_cache.logger, "cache away"))

    class Away:
        def set(self, *args, **kwargs):
            raise RedisError("connection refused")

    monkeypatch.setattr(catalogue_cache, "cache", Away())
    with caplog.at_level(logging.INFO, logger="storefront.catalogue_cache"):
        for _row in range(3):
            catalogue_cache.catalogue_changed()
    levels = [r.levelno for r in caplog.records if r.name == "storefront.catalogue_cache"]
    assert levels == [logging.INFO]
