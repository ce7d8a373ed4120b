"""Custom field values on initiatives (issue 20): a JSON column, and on PostgreSQL a GIN
index (``jsonb_path_ops``: it answers the containment test ``@>`` the custom-field filters
use). SQLite has no GIN index; the filters use key look-ups there."""

from django.db import migrations, models

CREATE = """
CREATE INDEX IF NOT EXISTS initiative_custom_fields_gin
    ON portfolio_initiative USING gin (custom_fields jsonb_path_ops);
"""
DROP = "DROP INDEX IF EXISTS initiative_custom_fields_gin;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("portfolio", "0007_realised_value_evidence")]

    operations = [
        migrations.AddField(
            model_name="initiative",
            name="custom_fields",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
