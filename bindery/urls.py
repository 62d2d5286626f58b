"""The site's URLconf (ROOT_URLCONF): the shop, and what the project mounts beside it (device registration,
sign-in, languages, admin, the API, health; the sandbox and the media where this deployment serves them)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from storefront import views as shop_views
from storefront.health import BinderyHealthView, LivenessView

urlpatterns = [
    # First: some of its pages stand in for Django's own below (the password reset, the language choice,
    # the admin's dashboard).
    path("", include("storefront.urls")),
    path("devices/", include("binding.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # The entitlement API for other storefronts (API keys; OpenAPI schema and docs at /api/v1/docs/).
    path("api/", include("api.urls")),
    # Database, Redis, the workers and ExpressPlay; 200 when all answer, 500 otherwise (?format=json for tools).
    path("health/", BinderyHealthView.as_view(), name="health"),
    # For a load balancer: this node serves (its database answers).
    path("health/live/", LivenessView.as_view(), name="health-live"),
]

if settings.EXPRESSPLAY_ENV == "sandbox":
    # The offline ExpressPlay stand-in. It shares this process in the demo but is its own service: nothing
    # in storefront or binding imports it; they reach it over HTTP, as they would ExpressPlay. Against the
    # real ExpressPlay it is not mounted at all: it would check guesses at the live customerAuthenticator.
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

if settings.SERVE_MEDIA:
    # The demo serves the encrypted media itself; production points MEDIA_URL at a CDN instead.
    urlpatterns.append(
        re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", shop_views.media, name="media")
    )
