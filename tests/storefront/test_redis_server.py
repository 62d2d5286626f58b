"""The embedded Redis is a real server answering over TCP."""

import redis


def test_embedded_or_configured_redis_answers(redis_url):
    connection = redis.Redis.from_url(redis_url)
    assert connection.ping()
    connection.set("bindery:test", "ok", ex=5)
    assert connection.get("bindery:test") == b"ok"
