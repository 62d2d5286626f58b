"""Create the two staff groups, Support and Operations, with their permissions."""

from django.db import migrations

VIEW = [
    "binding.view_cookie", "binding.view_device", "binding.view_entitlement", "binding.view_bindingevent",
    "binding.view_mediaasset", "storefront.view_title", "storefront.view_offer", "storefront.view_order",
    "auth.view_user",
]  # fmt: skip
SUPPORT = [*VIEW, "binding.retry_entitlement", "binding.export_bindingevent"]
OPERATIONS = [
    *SUPPORT,
    "binding.reissue_entitlement", "binding.revoke_entitlement", "binding.move_entitlement",
    "binding.remove_device", "binding.refresh_device", "binding.reset_device_swaps", "binding.change_device",
    "storefront.add_title", "storefront.change_title", "storefront.add_offer", "storefront.change_offer",
]  # fmt: skip
GROUPS = {"Support": SUPPORT, "Operations": OPERATIONS}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrations; a fresh database needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(permissions)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("binding", "0003_entitlement_token_device_and_permissions"),
        ("storefront", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
