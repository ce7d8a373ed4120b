"""Install the default risk questionnaire and control library."""

from django.db import migrations


def install(apps, schema_editor):
    from governance.risk.services import library_install_defaults

    names = ["Questionnaire", "Question", "Choice", "Control", "ControlRequirement"]
    library_install_defaults(models={name: apps.get_model("governance", name) for name in names})


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
