# Allocations hold GPUs over instants (issue 17): the timestamps are added nullable here,
# filled from the dates by 0010, then required and constrained by 0011 — three migrations,
# so each runs in its own transaction on PostgreSQL (no ALTER TABLE after the data UPDATEs).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0008_kubernetes_pod_records"),
    ]

    operations = [
        migrations.AddField(
            model_name="gpuallocation",
            name="starts_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="gpuallocation",
            name="ends_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Exclusive: the instant the GPUs are given back.",
                null=True,
            ),
        ),
    ]
