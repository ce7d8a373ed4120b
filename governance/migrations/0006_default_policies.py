"""Install the default approval policy of every tier × gate."""

from django.db import migrations


def install(apps, schema_editor):
    from governance.approvals.policies import policies_install_defaults

    policies_install_defaults(
        models={
            name: apps.get_model("governance", name) for name in ("ApprovalPolicy", "ApprovalStep")
        }
    )


class Migration(migrations.Migration):
    dependencies = [("governance", "0005_approvals")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
