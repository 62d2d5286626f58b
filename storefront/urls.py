"""The shop's URLs, included at the site's root by bindery/urls.py: its pages (in the "storefront"
namespace), the customer's account pages, the presenter and the operators' dashboard."""

from django.urls import include, path

from binding import converters  # noqa: F401 - registers <id:…>

from . import account, dashboard, presenter, views

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
    # Before Django's own, which it replaces: the same page, but mails are throttled per address and client.
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/signup/", account.signup, name="signup"),
    path("account/", account.account, name="account"),
    # Before Django's own: the choice is also the signed-in customer's language for mail.
    path("i18n/setlang/", account.set_language, name="set_language"),
    # The presenter's view of the demo (staff, sandbox only).
    path("presenter/", presenter.presenter, name="presenter"),
    path("presenter/events/", presenter.presenter_events, name="presenter-events"),
    path("presenter/reset/", presenter.presenter_reset, name="presenter-reset"),
    path("presenter/sign-in/<str:token>/", presenter.presenter_sign_in, name="presenter-sign-in"),
    # Operators' picture of the shop over the last day (staff), before the admin's own addresses.
    path("admin/dashboard/", dashboard.dashboard, name="shop-dashboard"),
]
