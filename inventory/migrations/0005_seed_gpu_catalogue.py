from django.db import migrations


def seed(apps, schema_editor):
    from inventory.gpu.catalogue import seed_catalogue

    seed_catalogue(apps.get_model("inventory", "GPUType"))


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_gpu_finops")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
