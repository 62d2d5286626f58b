"""The two staff groups, Support and Operations, and what each may do in admin.

Synced after every `migrate` (and every test database flush) by a post_migrate handler (bindery/apps.py), so the groups
always match this file.
"""

VIEW = [
    "binding.view_registration",
    "binding.view_device",
    "binding.view_entitlement",
    "binding.view_bindingevent",
    "binding.view_mediaasset",
    "binding.view_drmfallback",
    "binding.view_playsession",
    "storefront.view_title",
    "storefront.view_offer",
    "storefront.view_order",
    "auth.view_user",
    "api.view_client",
    "api.view_customer",
    "api.view_clienttitle",
    "api.view_clientregistration",
    "api.view_webhookendpoint",
    "api.view_webhookdelivery",
]
SUPPORT = [*VIEW, "binding.retry_entitlement", "binding.export_bindingevent"]
OPERATIONS = [
    *SUPPORT,
    "binding.reissue_entitlement",
    "binding.revoke_entitlement",
    "binding.move_entitlement",
    "binding.remove_device",
    "binding.refresh_device",
    "binding.reset_device_swaps",
    "binding.change_device",
    "storefront.add_title",
    "storefront.change_title",
    "storefront.add_offer",
    "storefront.change_offer",
    "sandbox.change_faultsettings",
    # Try ExpressPlay's device binding again on a DRM that fell back (decision 0013).
    "binding.delete_drmfallback",
    # The API's integrating clients: their keys (made and revoked here), webhook endpoints and resends.
    "api.add_client",
    "api.change_client",
    "api.view_clientapikey",
    "api.add_clientapikey",
    "api.change_clientapikey",
    "api.add_webhookendpoint",
    "api.change_webhookendpoint",
    "api.change_webhookdelivery",
    # Webhook payloads as sent, token URLs included (Support sees them hidden).
    "api.view_token_urls",
]
GROUPS = {"Support": SUPPORT, "Operations": OPERATIONS}


def staff_groups_sync(**kwargs) -> None:
    """Create or update the staff groups with exactly the permissions listed above."""
    from django.contrib.auth.models import Group, Permission

    for name, dotted_names in GROUPS.items():
        wanted = [tuple(dotted.split(".")) for dotted in dotted_names]
        permissions = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)
