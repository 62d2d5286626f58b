from django.contrib import admin
from django.urls import include, path

from . import views

# The shop's own pages, in the "storefront" namespace.
shop_patterns = [
    path("", views.home, name="home"),
]

urlpatterns = [
    path("", include((shop_patterns, "storefront"))),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # The offline ExpressPlay stand-in. It shares this process in the demo but is its own service: nothing
    # in storefront or binding imports it; they reach it over HTTP, as they would ExpressPlay.
    path("sandbox/", include("sandbox.urls")),
]
