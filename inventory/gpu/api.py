from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from core.api.views import ServiceBackedViewSet
from inventory.gpu import selectors, services
from inventory.gpu.filtersets import GPUAllocationFilterSet, GPUPoolFilterSet
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.gpu.services import ALLOCATION_FIELDS, POOL_FIELDS


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
