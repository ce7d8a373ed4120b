# Every existing allocation is whole days: starts_at = 00:00 UTC of starts_on, ends_at = 00:00
# UTC of the day after ends_on (the inclusive end day becomes an exclusive instant), through
# the same helper the application uses (core.periods.period_from_dates). One UPDATE per
# distinct date, not per row.

from django.db import migrations

from core.periods import period_from_dates


def fill_timestamps(apps, schema_editor):
    allocations = apps.get_model("inventory", "GPUAllocation").objects
    starts = allocations.filter(starts_at__isnull=True).values_list("starts_on", flat=True)
    for starts_on in starts.distinct().order_by():
        allocations.filter(starts_at__isnull=True, starts_on=starts_on).update(
            starts_at=period_from_dates(starts_on, None)[0]
        )
    ends = allocations.filter(ends_at__isnull=True, ends_on__isnull=False)
    for ends_on in ends.values_list("ends_on", flat=True).distinct().order_by():
        allocations.filter(ends_at__isnull=True, ends_on=ends_on).update(
            ends_at=period_from_dates(ends_on, ends_on)[1]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0009_gpu_allocation_timestamps"),
    ]

    operations = [
        # Backwards the dates are still there: nothing to undo.
        migrations.RunPython(fill_timestamps, migrations.RunPython.noop, elidable=False),
    ]
