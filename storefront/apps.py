from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = _("Storefront")

    def ready(self):
        from django.db.backends.signals import connection_created

        from .files import sqlite_files_owner_only
        from .staff_groups import staff_groups_sync

        connection_created.connect(sqlite_files_owner_only, dispatch_uid="bindery-sqlite-owner-only")
        # After this app's migrations (and test flushes): permissions exist by then for every app before it.
        post_migrate.connect(staff_groups_sync, sender=self, dispatch_uid="bindery-staff-groups")
