"""The registration attempt has one name (issue 22): binding's `Cookie` is `Registration`, as the shop, the
admin and the API call it. Its table and content type follow; the permissions keep their rows (and so every
group and user that holds one) under their new codenames. The fields that point at it keep the name `cookie`:
what a registration carries to ExpressPlay is its cookie, the protocol's word."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _rename_permissions(apps, old: str, new: str) -> None:
    Permission = apps.get_model("auth", "Permission")
    for permission in Permission.objects.filter(content_type__app_label="binding", codename__endswith=f"_{old}"):
        action = permission.codename.removesuffix(f"_{old}")
        if Permission.objects.filter(content_type=permission.content_type, codename=f"{action}_{new}").exists():
            continue  # made by a post_migrate run already: the old row is left as it was
        permission.codename = f"{action}_{new}"
        permission.name = permission.name.replace("binding cookie", "registration")
        permission.save(update_fields=["codename", "name"])


def forwards(apps, schema_editor):
    _rename_permissions(apps, "cookie", "registration")


def backwards(apps, schema_editor):
    _rename_permissions(apps, "registration", "cookie")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("binding", "0013_token_request_time_based"),
        ("api", "0004_token_urls_permission"),  # its history points at binding.Cookie: renamed after it
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("Cookie", "Registration"),
        migrations.AlterModelOptions(
            name="registration",
            options={
                "ordering": ["-created_at"],
                "verbose_name": "registration",
                "verbose_name_plural": "registrations",
            },
        ),
        migrations.AlterField(
            model_name="registration",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="binding_registrations",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
