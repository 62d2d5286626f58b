"""Bindery's admin site: its titles, and the rule that no admin on it answers hostile input with a 500.

It is `django.contrib.admin.site` (`bindery.apps.BinderyAdminConfig` makes it the default site), so the apps
keep registering with `@admin.register` and the URLs keep `admin.site.urls`.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from adminkit import HostileInputMixin


class BinderyAdminSite(admin.AdminSite):
    site_header = _("Bindery operations")
    site_title = _("Bindery operations")
    index_title = _("Customers, devices and entitlements")

    def register(self, model_or_iterable, admin_class=None, **options):
        """Register as Django does. An admin without HostileInputMixin gets it mixed in: those that libraries
        register (auth's groups, axes' logs, API keys). Bindery's own admins declare it, from their toolkit
        (binding.admin.toolkit; tests/binding/test_admin.py holds them to it)."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, HostileInputMixin):
            admin_class = type(
                admin_class.__name__, (HostileInputMixin, admin_class), {"__module__": __name__}
            )
        super().register(model_or_iterable, admin_class, **options)
