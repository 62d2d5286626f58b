from django.apps import AppConfig, apps
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class BinderyConfig(AppConfig):
    """The project as an app: the receivers that belong to no one app, and the Celery app of this process."""

    name = "bindery"

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
