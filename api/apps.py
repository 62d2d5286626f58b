from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Storefront API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from binding.signals import binding_event_recorded

        from . import checks, webhooks  # noqa: F401 - checks registers the system checks

        # Binding's named signal, sent by its one writer of BindingEvent (no post_save on another app's model).
        binding_event_recorded.connect(webhooks.deliveries_record, dispatch_uid="api-webhooks")
