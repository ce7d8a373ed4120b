"""Custom field values on AI models, model versions, vendors and GPU allocations (issue 20):
a JSON column each, and on PostgreSQL a GIN index (``jsonb_path_ops``) for the
custom-field filters' containment test. SQLite has no GIN index."""

from django.db import migrations, models

TABLES = (
    "inventory_aimodel",
    "inventory_modelversion",
    "inventory_vendor",
    "inventory_gpuallocation",
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_custom_fields_gin "
                f"ON {table} USING gin (custom_fields jsonb_path_ops);",
                params=None,
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_custom_fields_gin;", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0012_usagedaily_sampled_gpu_hours"),
    ]

    operations = [
        migrations.AddField(
            model_name="aimodel",
            name="custom_fields",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="gpuallocation",
            name="custom_fields",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="custom_fields",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="vendor",
            name="custom_fields",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
