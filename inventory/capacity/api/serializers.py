"""Serializers of GPU requests, quotas (with usage against quota), external keys and the GPU
catalogue. Writes go through ``inventory.capacity.services``."""

from rest_framework import serializers

from core.models import BusinessUnit
from inventory.capacity.models import GPUQuota, GPURequest
from inventory.capacity.services import EXTERNAL_KEY_FIELDS, GPU_REQUEST_FIELDS, QUOTA_FIELDS
from inventory.gpu.choices import PricingModel
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.usage.models import ExternalKey
from portfolio.initiatives.models import Initiative

USAGE = {"max_digits": 14, "decimal_places": 4, "read_only": True, "default": None}


class GPURequestSerializer(serializers.ModelSerializer):
    initiative = serializers.PrimaryKeyRelatedField(queryset=Initiative.objects.all())
    business_unit = serializers.PrimaryKeyRelatedField(
        queryset=BusinessUnit.objects.all(),
        required=False,
        help_text="The requesting unit: the initiative's (default) or one it is deployed to.",
    )
    pool = serializers.PrimaryKeyRelatedField(queryset=GPUPool.objects.all())
    pricing_model = serializers.ChoiceField(
        choices=PricingModel.choices,
        required=False,
        help_text="Defaults to the pool's pricing model.",
    )
    approval_request = serializers.IntegerField(
        read_only=True,
        default=None,
        source="approval_request_id",
        help_text="The gpu_request gate request deciding it.",
    )

    class Meta:
        model = GPURequest
        fields = [
            "id",
            *GPU_REQUEST_FIELDS,
            "status",
            "fast_tracked",
            "requested_by",
            "allocation",
            "approval_request",
            "decided_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "fast_tracked",
            "requested_by",
            "allocation",
            "decided_at",
            "created_at",
        ]
        extra_kwargs = {
            "gpu_count": {
                "help_text": "Whole GPUs in exclusive pools; thousandths (milli-GPUs) in "
                "time-sliced pools; sevenths (0.143, 0.286 …) in MIG pools."
            }
        }

    def validate(self, attrs):
        # Field-level rules (fractions, dates, capacity, permissions) are the service's.
        return attrs


class GPUQuotaSerializer(serializers.ModelSerializer):
    initiative = serializers.PrimaryKeyRelatedField(
        queryset=Initiative.objects.all(), required=False, allow_null=True
    )
    business_unit = serializers.PrimaryKeyRelatedField(
        queryset=BusinessUnit.objects.all(),
        required=False,
        help_text="Defaults to the initiative's unit for an initiative quota.",
    )
    allocated_gpus = serializers.DecimalField(
        **USAGE, help_text="GPUs in its allocations active today."
    )
    pending_gpus = serializers.DecimalField(**USAGE, help_text="GPUs in its pending requests.")
    gpu_hours_month = serializers.DecimalField(
        **USAGE, help_text="Observed GPU-hours of its allocations this month."
    )

    class Meta:
        model = GPUQuota
        fields = [
            "id",
            *QUOTA_FIELDS,
            "allocated_gpus",
            "pending_gpus",
            "gpu_hours_month",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        # Uniqueness is checked by the service with a clear message.
        validators = []


class GPUQuotaUpdateSerializer(GPUQuotaSerializer):
    class Meta(GPUQuotaSerializer.Meta):
        read_only_fields = ["id", "business_unit", "initiative", "pool", "created_at"]


class ExternalKeySerializer(serializers.ModelSerializer):
    initiative = serializers.PrimaryKeyRelatedField(
        queryset=Initiative.objects.all(), required=False, allow_null=True
    )
    business_unit = serializers.PrimaryKeyRelatedField(
        queryset=BusinessUnit.objects.all(), required=False, allow_null=True
    )
    allocation = serializers.PrimaryKeyRelatedField(
        queryset=GPUAllocation.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ExternalKey
        fields = ["id", *EXTERNAL_KEY_FIELDS, "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []  # (kind, value) uniqueness: the service says which key is taken
