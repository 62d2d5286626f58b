"""The core of Bindery's settings: where the repository and the var folder are, the secret key, the apps,
middleware, URLs, templates, sign-in and languages. Every other module of this package builds on it."""

from pathlib import Path

import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from bindery import local_files

# The admins subclass Django's generic classes with their model (`admin.ModelAdmin[Entitlement]`) for the type
# checker; this makes those subscriptable at run time too, before any app is imported.
django_stubs_ext.monkeypatch()

BASE_DIR = local_files.BASE_DIR

env = local_files.environment()

# Runtime state of the embedded defaults (SQLite file, Redis data, generated secret key, packaged media),
# owner-only; bindery.local_files.prepare() makes it, before the settings load.
VAR_DIR: Path = local_files.var_dir(env)

# Generated once per install when unset (bindery/local_files.py says why).
SECRET_KEY = env("SECRET_KEY", default="") or local_files.generated(
    VAR_DIR / local_files.SECRET_KEY_FILE, instead="SECRET_KEY"
)
DEBUG = env.bool("DEBUG", default=False)
# Fernet keys that encrypt content keys and tokens at rest (binding/fields.py): the first encrypts, all
# decrypt. Unset: one derived from SECRET_KEY (fine for the demo; production sets its own).
BINDERY_DATA_KEYS = env.list("BINDERY_DATA_KEYS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "bindery.apps.BinderyAdminConfig",  # django.contrib.admin with the project's site (bindery/admin.py)
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
    # Storefront before bindery: the project's post_migrate handler (staff groups) runs after storefront's
    # migrations, when the other apps' permissions exist.
    "accounts",
    "binding",
    "sandbox",
    "api",
    "storefront",
    # The project itself (bindery/apps.py): its signal receivers and the Celery app of this process.
    "bindery",
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


ROOT_URLCONF = "bindery.urls"
WSGI_APPLICATION = "bindery.wsgi.application"

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
# Bindery's own address, for links in webhooks and mails (which have no request to take it from).
BINDERY_PUBLIC_URL = env("BINDERY_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
