from django.db import migrations


def names_from_titles(apps, schema_editor):
    """Existing media assets take the name of the title that plays them."""
    Title = apps.get_model("storefront", "Title")
    MediaAsset = apps.get_model("binding", "MediaAsset")
    for asset_id, name in Title.objects.values_list("asset_id", "name"):
        MediaAsset.objects.filter(pk=asset_id).update(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("storefront", "0002_catalogue_order_index"),
        ("binding", "0006_media_asset_name"),
    ]

    operations = [migrations.RunPython(names_from_titles, migrations.RunPython.noop)]
