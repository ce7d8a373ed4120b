"""Custom field values on incidents (issue 20): a JSON column, and on PostgreSQL a GIN index
(``jsonb_path_ops``) for the custom-field filters' containment test, as on the other
registers (inventory 0013, portfolio 0008). SQLite has no GIN index."""

from django.db import migrations, models

TABLE = "governance_incident"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {TABLE}_custom_fields_gin "
            f"ON {TABLE} USING gin (custom_fields jsonb_path_ops);",
            params=None,
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_custom_fields_gin;", params=None)


class Migration(migrations.Migration):
    dependencies = [("governance", "0015_incidents")]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="custom_fields",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
