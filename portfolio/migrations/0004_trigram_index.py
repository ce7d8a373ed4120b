"""On PostgreSQL, trigram search for duplicate detection: the pg_trgm extension and a GIN
index on the text duplicate detection compares (title and purpose)."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS initiative_title_purpose_trgm
    ON portfolio_initiative USING gin ((lower(title || ' ' || purpose)) gin_trgm_ops);
"""
DROP = "DROP INDEX IF EXISTS initiative_title_purpose_trgm;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("portfolio", "0003_scaling_roadmap_duplicates")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
