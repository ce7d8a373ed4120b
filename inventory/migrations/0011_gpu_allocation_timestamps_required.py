from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0010_fill_gpu_allocation_timestamps"),
    ]

    operations = [
        migrations.AlterField(
            model_name="gpuallocation",
            name="starts_at",
            field=models.DateTimeField(),
        ),
        migrations.AddConstraint(
            model_name="gpuallocation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("ends_at__isnull", True),
                    ("ends_at__gt", models.F("starts_at")),
                    _connector="OR",
                ),
                name="gpu_allocation_ends_at_after_starts_at",
            ),
        ),
    ]
