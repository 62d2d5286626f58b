from django.apps import AppConfig, apps
from django.contrib.admin import apps as admin_apps
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class BinderyConfig(AppConfig):
    """The project as an app: the receivers that belong to no one app, and the Celery app of this process."""

    name = "bindery"
    default = True  # this module also holds BinderyAdminConfig: "bindery" in INSTALLED_APPS means this one

    def ready(self):
        from . import celery  # noqa: F401 - @shared_task sends through this app, in the web as in workers
        from .local_files import sqlite_files_owner_only
        from .staff_groups import staff_groups_sync

        connection_created.connect(sqlite_files_owner_only, dispatch_uid="bindery-sqlite-owner-only")
        # After storefront's migrations (and test flushes), the last app with models: every permission the
        # groups name exists by then. This app has no models, so no post_migrate is sent for it.
        post_migrate.connect(
            staff_groups_sync, sender=apps.get_app_config("storefront"), dispatch_uid="bindery-staff-groups"
        )


class BinderyAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with Bindery's site (bindery/admin.py) as `admin.site`: in INSTALLED_APPS in its
    place ("Overriding the default admin site" in Django's documentation)."""

    default_site = "bindery.admin.BinderyAdminSite"
    default = False  # named in INSTALLED_APPS; "bindery" alone means BinderyConfig
