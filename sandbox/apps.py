from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = _("ExpressPlay sandbox")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks

    def demo_reset(self, *, faults_off: bool = False) -> None:
        """What a demo reset puts back in the sandbox: the device-binding switch to its default (the
        setting), and every fault off when `faults_off`. The transaction log stays. Called by name through the
        app registry (apps.get_app_config("sandbox")), so that no app imports the sandbox."""
        from . import faults

        faults.device_binding_default()
        if faults_off:
            faults.faults_off()
