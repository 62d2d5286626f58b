from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import dropin, sees, views

# DRF puts trailing_slash into its URL patterns as it is (a regex here); the stubs allow only a bool.
router = SimpleRouter(trailing_slash="/?")  # type: ignore[arg-type]
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("devices", views.DeviceViewSet, basename="device")
router.register("registrations", views.RegistrationViewSet, basename="registration")
router.register("titles", views.TitleViewSet, basename="title")
router.register("entitlements", views.EntitlementViewSet, basename="entitlement")
router.register("webhooks", views.WebhookViewSet, basename="webhook")

app_name = "api"

urlpatterns = [
    path("v1/", include(router.urls)),
    # The OpenAPI 3 schema, and Swagger UI served from the installed sidecar package (no CDN).
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # The drop-in device check's calls from a customer's browser (the registration reference is the credential).
    path("v1/check/player/", dropin.player, name="check-player"),
    path("v1/check/<str:reference>/", dropin.check, name="check"),
    path("v1/check/<str:reference>/start/", dropin.start, name="check-start"),
    path("v1/check/<str:reference>/licensed/", dropin.licensed, name="check-licensed"),
    # SEES compatibility (docs/sees.md): an integration written for Adobe's SEES, moved to Bindery.
    re_path(r"^sees/entitlement/?$", sees.SeesEntitlementView.as_view(), name="sees"),
    # Any other address under /api/ (a made-up id included) is a problem-details 404, not an HTML page.
    re_path(r"^.*$", views.not_found),
]
