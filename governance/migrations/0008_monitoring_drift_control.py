"""Install controls added to the default library since 0002 (MON-02, production models not
drifting); library_install_defaults only adds what is missing."""

from django.db import migrations


def install(apps, schema_editor):
    from governance.risk.services import library_install_defaults

    names = ["Questionnaire", "Question", "Choice", "Control", "ControlRequirement"]
    library_install_defaults(models={name: apps.get_model("governance", name) for name in names})


class Migration(migrations.Migration):
    dependencies = [("governance", "0007_request_acting_roles")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
