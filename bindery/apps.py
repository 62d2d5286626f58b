from django.contrib.admin.apps import AdminConfig


class BinderyAdminConfig(AdminConfig):
    """django.contrib.admin, with Bindery's site (bindery/admin.py) as `admin.site`: in INSTALLED_APPS in its
    place ("Overriding the default admin site" in Django's documentation)."""

    default_site = "bindery.admin.BinderyAdminSite"
