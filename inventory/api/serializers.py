from rest_framework import serializers

from inventory.models import AIModel, GPUAllocation, GPUPool
from inventory.services import ALLOCATION_FIELDS, MODEL_FIELDS, POOL_FIELDS
from portfolio.models import Initiative


class AIModelSerializer(serializers.ModelSerializer):
    initiatives = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Initiative.objects.all()
    )

    class Meta:
        model = AIModel
        fields = ["id", *MODEL_FIELDS, "initiatives", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "initiatives" in self.fields:
            from portfolio.selectors import initiative_list

            # Only initiatives the caller can see may be linked (and named in errors).
            self.fields["initiatives"].child_relation.queryset = initiative_list(user=request.user)


class GPUPoolSerializer(serializers.ModelSerializer):
    allocated_gpus = serializers.DecimalField(
        max_digits=10, decimal_places=2, read_only=True, default=None
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
