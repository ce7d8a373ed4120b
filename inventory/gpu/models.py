"""The GPU estate: GPU types (reference data), pools with their rate cards, and allocations
of a pool's GPUs to initiatives."""

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.models import BusinessUnit, CustomFieldsModel
from core.periods import ONE_DAY, dates_from_period, day_start
from inventory.gpu.choices import AllocationPurpose, PoolKind, PricingModel, Provider, SharingMode
from portfolio.initiatives.choices import ENDED_STAGES, Stage
from portfolio.initiatives.models import Initiative

# A MIG profile as NVIDIA writes it: "<compute slices>g.<memory>gb", e.g. "3g.40gb".
MIG_PROFILE_PATTERN = re.compile(r"^[1-7]g\.\d+gb$")


class GPUType(models.Model):
    """Catalogue entry for a GPU model; the reference price is guidance, not billing truth.
    Platform admins create and edit entries (``inventory.gpu.services.gpu_type_create``)."""

    vendor = models.CharField(max_length=50, default="NVIDIA")
    name = models.CharField(max_length=100, unique=True)
    memory_gb = models.PositiveIntegerField("memory (GB)", null=True, blank=True)
    reference_hourly_price = models.DecimalField(
        "reference $/GPU-hour",
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Public list price for guidance; imported FOCUS costs always win.",
    )
    currency = models.CharField(max_length=3, default="USD")
    price_source = models.CharField(max_length=200, blank=True)
    price_as_of = models.CharField("price date", max_length=10, blank=True)
    example_instance = models.CharField(max_length=50, blank=True)
    gpus_per_instance = models.PositiveSmallIntegerField(null=True, blank=True)
    instance_hourly_price = models.DecimalField(
        max_digits=12, decimal_places=5, null=True, blank=True
    )
    # The names monitoring reports for this GPU (DCGM ``modelName``), and its MIG profiles.
    monitoring_names = models.JSONField(default=list, blank=True)
    mig_profiles = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["vendor", "name"]
        verbose_name = "GPU type"
        constraints = [
            models.CheckConstraint(
                condition=Q(reference_hourly_price__isnull=True) | Q(reference_hourly_price__gte=0),
                name="gpu_type_price_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.vendor} {self.name}"

    def clean(self):
        bad = [p for p in self.mig_profiles or [] if not MIG_PROFILE_PATTERN.match(str(p))]
        if bad:
            raise ValidationError(
                {
                    "mig_profiles": f"{', '.join(map(str, bad))}: write MIG profiles as "
                    "<slices>g.<memory>gb, e.g. 1g.10gb or 3g.40gb."
                }
            )


class GPUPool(models.Model):
    """Where GPUs live: a cloud account, node pool, Slurm partition or on-prem cluster."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=PoolKind.choices)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    region = models.CharField(max_length=50, blank=True)
    account = models.CharField("account or project", max_length=100, blank=True)
    cluster = models.CharField(max_length=100, blank=True)
    gpu_type = models.ForeignKey(GPUType, on_delete=models.PROTECT, related_name="pools")
    gpu_count = models.PositiveIntegerField("capacity (GPUs)")
    sharing_mode = models.CharField(
        max_length=12, choices=SharingMode.choices, default=SharingMode.EXCLUSIVE
    )
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices)
    hourly_rate = models.DecimalField(
        "hourly rate per GPU", max_digits=10, decimal_places=4, default=Decimal("0")
    )
    currency = models.CharField(max_length=3, default="USD")
    # Rate card: the instance type billed for this pool's GPUs, so cost lines without a GPU
    # count can still be recognised and priced.
    instance_type = models.CharField(max_length=50, blank=True)
    gpus_per_instance = models.PositiveSmallIntegerField(null=True, blank=True)
    # A reservation or commitment bought for this pool (capacity reservation or savings plan
    # id), so its unused hours are attributed to the pool.
    commitment_id = models.CharField("reservation / commitment id", max_length=200, blank=True)
    owning_team = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "GPU pool"
        constraints = [
            models.CheckConstraint(
                condition=Q(gpu_count__gte=0), name="gpu_pool_count_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(hourly_rate__gte=0), name="gpu_pool_rate_not_negative"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("inventory:pool_detail", args=[self.pk])


# An allocation is orphaned when nobody's initiative is using it: none, or one that ended or
# is paused.
ORPHANING_STAGES = frozenset({*ENDED_STAGES, Stage.PAUSED})

# An allocation's period: the instants (the truth) and their derived UTC days.
PERIOD_FIELDS = ("starts_at", "ends_at", "starts_on", "ends_on")


class GPUAllocationQuerySet(models.QuerySet):
    def orphaned(self):
        return self.filter(Q(initiative__isnull=True) | Q(initiative__stage__in=ORPHANING_STAGES))

    def active_on(self, day):
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day), starts_on__lte=day)

    def bulk_create(self, objs, *args, **kwargs):
        """Sync each row's instants and dates first (bulk inserts skip ``save()``)."""
        objs = list(objs)
        for allocation in objs:
            allocation.sync_period()
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        """Keep the instants and the dates together when an update sets one side to a plain
        value (a date or an instant; an expression is the caller's to keep consistent)."""
        return super().update(**{**_period_update(kwargs), **kwargs})


def _period_update(values: dict) -> dict:
    """The other side of the period for the plain values of a ``QuerySet.update``."""
    derived = {}
    starts_on, starts_at = values.get("starts_on"), values.get("starts_at")
    if "starts_at" not in values and isinstance(starts_on, datetime.date):
        derived["starts_at"] = day_start(starts_on)
    elif "starts_on" not in values and isinstance(starts_at, datetime.datetime):
        derived["starts_on"] = dates_from_period(starts_at, None)[0]
    ends_on, ends_at = values.get("ends_on"), values.get("ends_at")
    if "ends_on" in values and "ends_at" not in values:
        if ends_on is None:
            derived["ends_at"] = None
        elif isinstance(ends_on, datetime.date):
            derived["ends_at"] = day_start(ends_on + ONE_DAY)
    elif "ends_at" in values and "ends_on" not in values:
        if ends_at is None:
            derived["ends_on"] = None
        elif isinstance(ends_at, datetime.datetime):
            derived["ends_on"] = dates_from_period(ends_at, ends_at)[1]
    return derived


class GPUAllocation(CustomFieldsModel):
    """GPUs of a pool given to a business unit, normally for an initiative.

    An allocation without an initiative, or whose initiative has ended, is *orphaned*.
    ``gpu_count`` may be fractional (to 0.001 GPU) for MIG or time-sliced sharing.

    It holds the GPUs over [``starts_at``, ``ends_at``) — the source of truth, to the
    microsecond, as a pod or a Slurm job holds them for hours. ``starts_on``/``ends_on`` are
    stored, derived UTC days (``ends_on`` inclusive: the day of the last instant held) that
    every date-based query, quota and report keeps using; ``sync_period`` keeps the two
    consistent and runs in ``save()``, ``clean()`` and the queryset's ``bulk_create`` (its
    ``update`` derives the other side of plain values; an ``F()`` update must set both).
    """

    pool = models.ForeignKey(GPUPool, on_delete=models.PROTECT, related_name="allocations")
    # Thousandths: Kubernetes GPU-sharing schedulers request milli-GPUs (``gpu_milli``).
    gpu_count = models.DecimalField(max_digits=9, decimal_places=3)
    initiative = models.ForeignKey(
        Initiative,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gpu_allocations",
    )
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="gpu_allocations"
    )
    purpose = models.CharField(max_length=20, choices=AllocationPurpose.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="Exclusive: the instant the GPUs are given back."
    )
    # Derived from starts_at/ends_at (sync_period), kept for every date-based reader.
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_gpu_allocations",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approved_gpu_allocations",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GPUAllocationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = "GPU allocation"
        constraints = [
            models.CheckConstraint(
                condition=Q(gpu_count__gt=0), name="gpu_allocation_count_positive"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="gpu_allocation_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="gpu_allocation_ends_at_after_starts_at",
            ),
        ]
        indexes = [models.Index(fields=["business_unit", "starts_on"])]

    def __str__(self):
        return f"{self.gpu_count} × {self.pool.gpu_type.name} for {self.business_unit.code}"

    def save(self, *args, **kwargs):
        self.sync_period()
        super().save(*args, **kwargs)
        self._stored_period = self._period()

    def get_absolute_url(self):
        return reverse("inventory:allocation_detail", args=[self.pk])

    def clean(self):
        try:
            self.sync_period()
        except ValidationError:
            return  # a malformed date or time: clean_fields has reported it on its field
        errors = {}
        if self.gpu_count is not None and self.gpu_count <= 0:
            errors["gpu_count"] = "Allocate more than zero GPUs."
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "The end date cannot be before the start date."
        elif self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_on"] = "The allocation must end after it starts."
        if errors:
            raise ValidationError(errors)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_period = instance._period()
        return instance

    def validate_constraints(self, exclude=None):
        # The end is reported once, on ``ends_on`` (the field forms, the API and the import
        # show): when clean() has refused it, the instants' constraint would only repeat it.
        if exclude and "ends_on" in exclude:
            exclude = {*exclude, "starts_at", "ends_at"}
        super().validate_constraints(exclude=exclude)

    def _period(self):
        # From __dict__: a deferred field (``.only()``) must not be loaded row by row here.
        return tuple(self.__dict__.get(name) for name in PERIOD_FIELDS)

    def sync_period(self) -> None:
        """Make the instants and the derived dates agree, whichever side the caller set.

        The instants win, unless only a date changed since the row was loaded (a caller that
        still writes ``starts_on``/``ends_on``): then the changed date becomes whole days — its
        start, or for ``ends_on`` the end of that day. A new row with only dates gets whole days.
        """
        for name in PERIOD_FIELDS:
            value = self._meta.get_field(name).to_python(getattr(self, name))
            if isinstance(value, datetime.datetime) and timezone.is_naive(value):
                value = timezone.make_aware(value, datetime.UTC)
            setattr(self, name, value)
        stored_at, stored_ends_at, stored_on, stored_ends_on = getattr(
            self, "_stored_period", (None, None, None, None)
        )
        if self.starts_on is not None and (
            self.starts_at is None or (self.starts_at == stored_at and self.starts_on != stored_on)
        ):
            self.starts_at = day_start(self.starts_on)
        date_changed = self.ends_at == stored_ends_at and self.ends_on != stored_ends_on
        # A row whose dates alone were written (``QuerySet.update``) is healed from them.
        date_only = self.ends_at is None and stored_ends_at is None and self.ends_on is not None
        if date_changed or date_only:
            self.ends_at = None if self.ends_on is None else day_start(self.ends_on + ONE_DAY)
        if self.starts_at is not None:
            self.starts_on, self.ends_on = dates_from_period(self.starts_at, self.ends_at)

    @property
    def is_orphaned(self) -> bool:
        return self.initiative_id is None or self.initiative.stage in ORPHANING_STAGES
