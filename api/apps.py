from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Storefront API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_save

        from binding.models import BindingEvent

        from . import checks, webhooks  # noqa: F401 - checks registers the system checks

        post_save.connect(webhooks.deliveries_record, sender=BindingEvent, dispatch_uid="api-webhooks")
