"""GPU quotas per business unit and pool, and requests for GPUs that an approval turns into
allocations."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.models import BusinessUnit
from inventory.capacity.choices import GPURequestStatus
from inventory.gpu.choices import AllocationPurpose, PricingModel
from inventory.gpu.models import GPUAllocation, GPUPool
from portfolio.initiatives.models import Initiative


class GPUQuota(models.Model):
    """What a business unit (or one of its initiatives) may hold in a pool: the GPUs it
    deserves, a hard limit, and optionally a monthly GPU-hour budget."""

    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.CASCADE, related_name="gpu_quotas"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="gpu_quotas"
    )
    pool = models.ForeignKey(GPUPool, on_delete=models.CASCADE, related_name="quotas")
    deserved_gpus = models.DecimalField(max_digits=9, decimal_places=3)
    limit_gpus = models.DecimalField(max_digits=9, decimal_places=3)
    monthly_gpu_hour_budget = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["business_unit", "pool", "initiative"]
        verbose_name = "GPU quota"
        constraints = [
            models.UniqueConstraint(
                fields=["business_unit", "pool"],
                condition=Q(initiative__isnull=True),
                name="gpu_quota_one_per_unit_pool",
            ),
            models.UniqueConstraint(
                fields=["initiative", "pool"],
                condition=Q(initiative__isnull=False),
                name="gpu_quota_one_per_initiative_pool",
            ),
            models.CheckConstraint(
                condition=Q(deserved_gpus__gte=0), name="gpu_quota_deserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(limit_gpus__gte=F("deserved_gpus")),
                name="gpu_quota_limit_covers_deserved",
            ),
        ]

    def __str__(self):
        scope = self.initiative.reference if self.initiative_id else self.business_unit.code
        return f"{scope} in {self.pool.name}: limit {self.limit_gpus}"

    def clean(self):
        if (
            self.deserved_gpus is not None
            and self.limit_gpus is not None
            and self.limit_gpus < self.deserved_gpus
        ):
            raise ValidationError({"limit_gpus": "The limit cannot be below the deserved GPUs."})
        if (
            self.initiative_id
            and self.business_unit_id
            and self.initiative.business_unit_id != self.business_unit_id
        ):
            raise ValidationError(
                {"initiative": "The initiative belongs to another business unit."}
            )


class GPURequest(models.Model):
    """A member's ask for GPUs for an initiative; decided through the ``gpu_request`` gate
    (fast-pathed within quota and under the size limit). Approval creates ``allocation``."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="gpu_requests"
    )
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="gpu_requests"
    )
    pool = models.ForeignKey(GPUPool, on_delete=models.PROTECT, related_name="requests")
    gpu_count = models.DecimalField(max_digits=9, decimal_places=3)  # milli-GPU grain
    purpose = models.CharField(max_length=20, choices=AllocationPurpose.choices)
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    justification = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=GPURequestStatus.choices, default=GPURequestStatus.PENDING
    )
    fast_tracked = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gpu_requests"
    )
    allocation = models.OneToOneField(
        GPUAllocation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="request",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "GPU request"
        constraints = [
            models.CheckConstraint(condition=Q(gpu_count__gt=0), name="gpu_request_count_positive"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="gpu_request_end_after_start",
            ),
        ]

    def __str__(self):
        return f"GPU request #{self.pk}: {self.gpu_count} × {self.pool.gpu_type.name}"

    def get_absolute_url(self):
        return reverse("inventory:gpu_request_detail", args=[self.pk])
