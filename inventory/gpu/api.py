from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from core.api.views import ServiceBackedViewSet
from inventory.gpu import selectors, services
from inventory.gpu.filtersets import GPUAllocationFilterSet, GPUPoolFilterSet, GPUTypeFilterSet
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.gpu.services import ALLOCATION_FIELDS, GPU_TYPE_FIELDS, POOL_FIELDS


class GPUTypeSerializer(serializers.ModelSerializer):
    monitoring_names = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )
    mig_profiles = serializers.ListField(child=serializers.CharField(max_length=20), required=False)

    class Meta:
        model = GPUType
        fields = ["id", *GPU_TYPE_FIELDS]
        read_only_fields = ["id"]
        # The service reports a duplicate name as a field error (one message, one place).
        extra_kwargs = {"name": {"validators": []}}


class GPUPoolSerializer(serializers.ModelSerializer):
    allocated_gpus = serializers.DecimalField(
        max_digits=12, decimal_places=3, read_only=True, default=None
    )

    class Meta:
        model = GPUPool
        fields = ["id", *POOL_FIELDS, "allocated_gpus", "created_at"]
        read_only_fields = ["id", "created_at"]


class GPUAllocationSerializer(serializers.ModelSerializer):
    is_orphaned = serializers.BooleanField(read_only=True)

    class Meta:
        model = GPUAllocation
        fields = [
            "id",
            *ALLOCATION_FIELDS,
            "requested_by",
            "approved_by",
            "is_orphaned",
            "created_at",
        ]
        read_only_fields = ["id", "requested_by", "approved_by", "created_at"]


@extend_schema(tags=["gpu"])
class GPUTypeViewSet(ServiceBackedViewSet):
    """The GPU catalogue: memory (optional), reference price (guidance, with source and date),
    the names monitoring reports, MIG profiles. Platform admins create and edit entries."""

    serializer_class = GPUTypeSerializer
    filterset_class = GPUTypeFilterSet
    selector = selectors.gpu_type_list
    create_service = services.gpu_type_create
    update_service = services.gpu_type_update
    update_keyword = "gpu_type"


@extend_schema(tags=["gpu"])
class GPUPoolViewSet(ServiceBackedViewSet):
    serializer_class = GPUPoolSerializer
    filterset_class = GPUPoolFilterSet
    selector = selectors.pool_list
    create_service = services.pool_create
    update_service = services.pool_update
    update_keyword = "pool"


@extend_schema(tags=["gpu"])
class GPUAllocationViewSet(ServiceBackedViewSet):
    serializer_class = GPUAllocationSerializer
    filterset_class = GPUAllocationFilterSet
    selector = selectors.allocation_list
    create_service = services.allocation_create
    update_service = services.allocation_update
    update_keyword = "allocation"
