"""The API's handle on one registration (the reference a client's page gives the drop-in script) is
`ClientRegistration`, beside `ClientTitle`: `Registration` is binding's registration attempt itself (issue 22).
Its permissions keep their rows under their new codenames."""

import django.db.models.deletion
from django.db import migrations, models


def _rename_permissions(apps, old: str, new: str) -> None:
    Permission = apps.get_model("auth", "Permission")
    for permission in Permission.objects.filter(content_type__app_label="api", codename__endswith=f"_{old}"):
        action = permission.codename.removesuffix(f"_{old}")
        if Permission.objects.filter(content_type=permission.content_type, codename=f"{action}_{new}").exists():
            continue
        permission.codename = f"{action}_{new}"
        permission.save(update_fields=["codename"])


def forwards(apps, schema_editor):
    _rename_permissions(apps, "registration", "clientregistration")


def backwards(apps, schema_editor):
    _rename_permissions(apps, "clientregistration", "registration")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("api", "0004_token_urls_permission"),
        ("binding", "0014_registration"),
    ]

    operations = [
        migrations.RenameModel("Registration", "ClientRegistration"),
        migrations.AlterField(
            model_name="clientregistration",
            name="cookie",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_registration",
                to="binding.registration",
                verbose_name="cookie",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
