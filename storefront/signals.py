"""Receivers that keep what the shop shows elsewhere in step with its titles."""

from binding.models import MediaAsset


def title_name_to_asset(sender, instance, **kwargs) -> None:
    """post_save of Title: the media asset carries its title's name, so that binding's pages (admin, audit,
    diagnosis) can name entitlements by title without knowing the shop."""
    MediaAsset.objects.filter(pk=instance.asset_id).exclude(name=instance.name).update(name=instance.name)
