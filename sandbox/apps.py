from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = _("ExpressPlay sandbox")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
