"""Install the default reporting regimes (EU AI Act Art. 73, GDPR Art. 33, DORA) and the
INC-01 control (risk reassessed after a serious incident); both installers add only what is
missing, so admins' edits stand."""

from django.db import migrations


def install(apps, schema_editor):
    from governance.incidents.regimes import regimes_install_defaults
    from governance.risk.services import library_install_defaults

    regimes_install_defaults(model=apps.get_model("governance", "ReportingRegime"))
    names = ["Questionnaire", "Question", "Choice", "Control", "ControlRequirement"]
    library_install_defaults(models={name: apps.get_model("governance", name) for name in names})


class Migration(migrations.Migration):
    dependencies = [("governance", "0015_incidents")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
