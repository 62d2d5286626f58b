from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from binding import converters  # noqa: F401 - registers <id:…>

from . import account, dashboard, presenter, views
from .health import BinderyHealthView, LivenessView

# The shop's own pages, in the "storefront" namespace.
shop_patterns = [
    path("", views.home, name="home"),
    path("titles/<slug:slug>/", views.title_detail, name="title"),
    path("checkout/<id:offer_id>/", views.checkout, name="checkout"),
    path("orders/", account.orders, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("library/", views.library, name="library"),
    path("library/<id:entitlement_id>/play/", views.play, name="play"),
    path("library/<id:entitlement_id>/status/", views.entitlement_status, name="entitlement-status"),
    path("library/<id:entitlement_id>/renew/", views.renew, name="renew"),
    path("library/<id:entitlement_id>/played/", views.played, name="played"),
    path("library/<id:entitlement_id>/refused/", views.refused, name="refused"),
    path("library/<id:entitlement_id>/move-here/", views.move_here, name="move-here"),
    # Titles bound by Bindery (decision 0013): a playback session per Play, and the licence proxy.
    path("library/<id:entitlement_id>/sessions/", views.play_session_start, name="play-session-start"),
    path("library/<id:entitlement_id>/sessions/challenge/", views.play_challenge, name="play-challenge"),
    path("library/sessions/<uuid:session_id>/licence/", views.play_licence, name="play-licence"),
    path("library/sessions/<uuid:session_id>/heartbeat/", views.play_heartbeat, name="play-heartbeat"),
    path("library/sessions/<uuid:session_id>/end/", views.play_end, name="play-end"),
]

urlpatterns = [
    path("", include((shop_patterns, "storefront"))),
    path("devices/", include("binding.urls")),
    # Before Django's own, which it replaces: the same page, but mails are throttled per address and client.
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/signup/", account.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("account/", account.account, name="account"),
    # Before Django's own: the choice is also the signed-in customer's language for mail.
    path("i18n/setlang/", account.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The presenter's view of the demo (staff, sandbox only).
    path("presenter/", presenter.presenter, name="presenter"),
    path("presenter/events/", presenter.presenter_events, name="presenter-events"),
    path("presenter/reset/", presenter.presenter_reset, name="presenter-reset"),
    path("presenter/sign-in/<str:token>/", presenter.presenter_sign_in, name="presenter-sign-in"),
    # Operators' picture of the shop over the last day (staff), before the admin's own addresses.
    path("admin/dashboard/", dashboard.dashboard, name="shop-dashboard"),
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
    urlpatterns.append(re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", views.media, name="media"))
