"""Governance content as data (issue 19): the ``questionnaire`` gate (a publication request
has no initiative) and its default approval policy."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def install_questionnaire_policy(apps, schema_editor):
    from governance.approvals.policies import policies_install_defaults

    policies_install_defaults(
        models={
            name: apps.get_model("governance", name) for name in ("ApprovalPolicy", "ApprovalStep")
        }
    )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0013_delegation_rule"),
        ("portfolio", "0007_realised_value_evidence"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="approvalpolicy",
            name="gate",
            field=models.CharField(
                choices=[
                    ("intake", "Intake"),
                    ("pilot", "Pilot"),
                    ("production", "Production"),
                    ("scale", "Scale"),
                    ("gpu_request", "GPU request"),
                    ("model_release", "Model release"),
                    ("questionnaire", "Questionnaire publication"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="approvalrequest",
            name="gate",
            field=models.CharField(
                choices=[
                    ("intake", "Intake"),
                    ("pilot", "Pilot"),
                    ("production", "Production"),
                    ("scale", "Scale"),
                    ("gpu_request", "GPU request"),
                    ("model_release", "Model release"),
                    ("questionnaire", "Questionnaire publication"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="approvalrequest",
            name="initiative",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="approval_requests",
                to="portfolio.initiative",
            ),
        ),
        migrations.AlterField(
            model_name="controlrequirement",
            name="gate",
            field=models.CharField(
                choices=[
                    ("intake", "Intake"),
                    ("pilot", "Pilot"),
                    ("production", "Production"),
                    ("scale", "Scale"),
                    ("gpu_request", "GPU request"),
                    ("model_release", "Model release"),
                    ("questionnaire", "Questionnaire publication"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="approvalrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("initiative__isnull", True), ("status__in", ["pending", "changes_requested"])
                ),
                fields=("gate", "subject_type", "subject_id"),
                name="one_open_content_request",
            ),
        ),
        migrations.AddConstraint(
            model_name="approvalrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("initiative__isnull", False), ("gate__in", ["questionnaire"]), _connector="OR"
                ),
                name="request_initiative_unless_content",
            ),
        ),
        migrations.RunPython(install_questionnaire_policy, migrations.RunPython.noop),
    ]
