from django.urls import path

from . import (
    converters,  # noqa: F401 - registers <id:…>
    views,
)

app_name = "binding"

urlpatterns = [
    path("", views.device_list, name="devices"),
    path("register/", views.register, name="register"),
    path("register/<str:value>/", views.check, name="check"),
    path("register/<str:value>/start/", views.check_start, name="start"),
    path("register/<str:value>/licensed/", views.licensed, name="licensed"),
    path("register/<str:value>/status/", views.status, name="status"),
    path("<id:pk>/rename/", views.rename, name="rename"),
    path("<id:pk>/remove/", views.remove, name="remove"),
]
