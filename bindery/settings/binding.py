"""Device binding's rules (devices, swaps, tokens' lifetimes) and the sweep that loses nothing (decision
0005), with the Celery beat schedule that runs it."""

from .base import env
from .expressplay import EXPRESSPLAY_TIMEOUT

BINDING_DEVICE_LIMIT = env.int("BINDING_DEVICE_LIMIT", default=3)
# Device swaps: how many devices a user may remove (or titles move) per period. Operators are not limited.
BINDING_SWAPS_PER_PERIOD = env.int("BINDING_SWAPS_PER_PERIOD", default=2)
BINDING_SWAP_PERIOD_DAYS = env.int("BINDING_SWAP_PERIOD_DAYS", default=30)
# Seconds a registration attempt stays open (its device-check token lives BINDING_CHECK_TOKEN_TTL of them).
BINDING_COOKIE_TTL = env.int("BINDING_COOKIE_TTL", default=900)
# How long a device-check token lives, from the moment the check page starts it: a check needs seconds, and a
# copied token is good for no longer than this (decision 0009).
BINDING_CHECK_TOKEN_TTL = env.int("BINDING_CHECK_TOKEN_TTL", default=180)
# How often the worker asks ExpressPlay's records for the device id before it gives up (exponential backoff).
BINDING_RECORD_LOOKUP_RETRIES = env.int("BINDING_RECORD_LOOKUP_RETRIES", default=8)
BINDING_DEVICE_CHECK_ASSET = "device-check"
# When the device id is looked up in ExpressPlay's records: "every_purchase" (the seed's flow, the default) or
# "registration" (trust the id record retrieval confirmed at registration, for BINDING_REGISTRATION_TRUST_DAYS;
# look it up again after that). ExpressPlay calls record retrieval a troubleshooting tool.
BINDING_DEVICE_LOOKUP = env("BINDING_DEVICE_LOOKUP", default="every_purchase")
BINDING_REGISTRATION_TRUST_DAYS = env.int("BINDING_REGISTRATION_TRUST_DAYS", default=30)
# Lifetime of a buy-to-own token (ExpressPlay allows 30 days at most). Short, because ExpressPlay has no
# revocation call: a token stays valid until it expires. Play renews an expired one for the same device.
ENTITLEMENT_TOKEN_LIFETIME = env.int("ENTITLEMENT_TOKEN_LIFETIME", default=24 * 3600)
# Renew a token when it has less than this many seconds left.
ENTITLEMENT_RENEW_MARGIN = env.int("ENTITLEMENT_RENEW_MARGIN", default=300)
# An outage delays a paid order; it does not fail it. While ExpressPlay cannot be reached (timeouts, refused
# connections, 5xx, a 4xx without an ExpressPlay code, no record yet) the worker retries with exponential
# backoff and full jitter capped at BINDING_RETRY_CAP seconds, for BINDING_OUTAGE_PATIENCE seconds from the
# first failure; only then does the order fail (and the sweep's automatic retries below take over). The cap
# keeps a returning ExpressPlay's backlog spread over at most that many seconds.
BINDING_OUTAGE_PATIENCE = env.int("BINDING_OUTAGE_PATIENCE", default=12 * 3600)
BINDING_RETRY_CAP = env.float("BINDING_RETRY_CAP", default=30.0)
# Seconds a task run holds its claim on an issue (a lease): long enough for a record lookup and a token
# request that both run into the timeout. When a worker dies mid-way, the sweep hands the issue on after it.
ENTITLEMENT_CLAIM_TIMEOUT = env.int("ENTITLEMENT_CLAIM_TIMEOUT", default=int(2 * EXPRESSPLAY_TIMEOUT) + 10)

# --- Nothing lost: the database is the truth, the queue a hint ------------------------------------------------
# Every BINDING_SWEEP_INTERVAL seconds (Celery beat), the sweep queues again every pending entitlement and
# registration lookup that has no live claim and was last queued more than BINDING_REQUEUE_AFTER seconds
# ago (or never: the broker was away), expires stale registrations and ended rentals.
BINDING_SWEEP_INTERVAL = env.float("BINDING_SWEEP_INTERVAL", default=10.0)
# 15 s: work a lost broker stranded (FLUSHALL, a restart without its file) is found again within about 25 s.
BINDING_REQUEUE_AFTER = env.int("BINDING_REQUEUE_AFTER", default=15)
BINDING_SWEEP_BATCH = env.int("BINDING_SWEEP_BATCH", default=500)
# An issue that failed because ExpressPlay could not be reached (every retry used) is tried again by the
# sweep this many times, after BINDING_AUTO_RETRY_AFTER seconds, doubling each time. Refusals wait for an operator.
BINDING_AUTO_RETRIES = env.int("BINDING_AUTO_RETRIES", default=3)
BINDING_AUTO_RETRY_AFTER = env.int("BINDING_AUTO_RETRY_AFTER", default=60)
# Admin flags pending entitlements older than this many seconds.
BINDING_PENDING_ALERT_AFTER = env.int("BINDING_PENDING_ALERT_AFTER", default=300)
# /health/ fails, and admin warns, when the sweep last finished longer ago than this many seconds (Celery beat
# stopped, or no worker takes the default queue): a few intervals, so that one slow sweep is not an alarm.
BINDING_SWEEP_STALE_AFTER = env.int("BINDING_SWEEP_STALE_AFTER", default=int(6 * BINDING_SWEEP_INTERVAL))
CELERY_BEAT_SCHEDULE = {
    "binding-sweep": {"task": "binding.work_sweep", "schedule": BINDING_SWEEP_INTERVAL},
    "webhooks-sweep": {"task": "api.webhooks_sweep", "schedule": BINDING_SWEEP_INTERVAL},
    "idempotency-purge": {"task": "api.idempotent_answers_purge", "schedule": 3600.0},
    "mails-sweep": {"task": "accounts.mails_sweep", "schedule": BINDING_SWEEP_INTERVAL},
}
# The HTTP cookie in which a browser remembers its own registration (signed, HttpOnly, SameSite=Lax).
BINDING_BROWSER_COOKIE = "bindery_device"
BINDING_BROWSER_COOKIE_AGE = 365 * 24 * 3600
# Bindery binding (decision 0013): a Play's token lives this many seconds (long enough to start playback; the
# licence it gets plays on), and at most this many playback sessions of one entitlement run at once.
BINDING_PLAY_TOKEN_TTL = env.int("BINDING_PLAY_TOKEN_TTL", default=300)
BINDING_CONCURRENT_PLAYS = env.int("BINDING_CONCURRENT_PLAYS", default=2)
