from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Customers' own settings (their language) and the mail Bindery sends them: a leaf that imports no other
    Bindery app, so that binding, the API and the shop may all queue mail."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts and mail")
