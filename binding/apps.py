from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BindingConfig(AppConfig):
    name = "binding"
    verbose_name = _("Device binding")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
