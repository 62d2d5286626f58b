"""The sandbox's URLs: ExpressPlay's paths below one base URL (/sandbox/ in the demo)."""

from django.urls import path, re_path

from . import views

app_name = "sandbox"

urlpatterns = [
    path("", views.status, name="status"),
    path("faults/", views.fault_settings, name="faults"),
    path("faults/now/", views.faults_now, name="faults-now"),
    path("present-as/", views.present_as, name="present-as"),
    re_path(r"^hms/(?P<drm>pr|wv|fp)/token$", views.token, name="token"),
    re_path(r"^hms/(?P<drm>wv|fp)/rights/$", views.rights, name="rights"),
    path("playready/RightsManager.asmx", views.rights, {"drm": "pr"}, name="playready-rights"),
    path("cmiapi/getrecord/", views.getrecord, name="getrecord"),
]
