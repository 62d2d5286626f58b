from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = _("Storefront")

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_save

        from binding.models import MediaAsset

        from .catalogue_cache import catalogue_changed
        from .files import sqlite_files_owner_only
        from .navigation import back_labels_register
        from .signals import title_name_to_asset
        from .staff_groups import staff_groups_sync

        connection_created.connect(sqlite_files_owner_only, dispatch_uid="bindery-sqlite-owner-only")
        # After this app's migrations (and test flushes): permissions exist by then for every app before it.
        # The cached catalogue shows titles, their offers and their media's running time.
        for model in (self.get_model("Title"), self.get_model("Offer"), MediaAsset):
            post_save.connect(
                catalogue_changed, sender=model, dispatch_uid=f"bindery-catalogue-{model.__name__}"
            )
            post_delete.connect(
                catalogue_changed, sender=model, dispatch_uid=f"bindery-catalogue-del-{model.__name__}"
            )
        post_save.connect(
            title_name_to_asset, sender=self.get_model("Title"), dispatch_uid="bindery-title-name"
        )
        back_labels_register()
        post_migrate.connect(staff_groups_sync, sender=self, dispatch_uid="bindery-staff-groups")
