from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = _("Storefront")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from binding.models import MediaAsset

        from .catalogue_cache import catalogue_changed
        from .navigation import back_labels_register
        from .signals import title_name_to_asset

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
