"""Files served: static files (WhiteNoise, from the finders in the demo, collected in production) and the
encrypted media."""

from .base import BASE_DIR, VAR_DIR, env

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end packages come from npm (`make install` runs `npm ci`); nothing is vendored by hand.
SHAKA_DIST = BASE_DIR / "node_modules" / "shaka-player" / "dist"
if SHAKA_DIST.is_dir():
    STATICFILES_DIRS.append(("vendor/shaka-player", SHAKA_DIST))
STATIC_ROOT = VAR_DIR / "staticfiles"
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

# Encrypted media packaged at install time (var/media), served by Django in the demo; a CDN in production.
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# The demo's clear clips, rendered at setup by FFmpeg (storefront/demo_data.py); no key is in them.
DEMO_SOURCES_DIR = VAR_DIR / "sources"
