"""The sampled part of the daily GPU-hours (issue 19: utilisation's sample coverage).

Rows written before this migration kept sampled, Slurm and pod hours in one figure: a day
with samples takes its whole ``gpu_hours`` as sampled (exact unless Slurm jobs or pods of the
same allocation ran that day; the next ingest touching the day recomputes it exactly), a day
without samples none."""

from decimal import Decimal

from django.db import migrations, models


def fill_sampled_hours(apps, schema_editor):
    usage_daily = apps.get_model("inventory", "UsageDaily")
    usage_daily.objects.filter(samples__gt=0).update(sampled_gpu_hours=models.F("gpu_hours"))


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0011_gpu_allocation_timestamps_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="usagedaily",
            name="sampled_gpu_hours",
            field=models.DecimalField(decimal_places=4, default=Decimal("0"), max_digits=14),
        ),
        migrations.RunPython(fill_sampled_hours, migrations.RunPython.noop),
    ]
