"""Bindery's admin site: its titles.

It is `django.contrib.admin.site` (`bindery.apps.BinderyAdminConfig` makes it the default site), so the apps
keep registering with `@admin.register` and the URLs keep `admin.site.urls`.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class BinderyAdminSite(admin.AdminSite):
    site_header = _("Bindery operations")
    site_title = _("Bindery operations")
    index_title = _("Customers, devices and entitlements")
