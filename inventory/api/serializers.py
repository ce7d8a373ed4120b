from rest_framework import serializers

from core.permissions import reads_whole_organisation
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
            # Only initiatives the caller can see may be linked (and named in errors).
            self.fields["initiatives"].child_relation.queryset = self._visible_initiatives()

    def _visible_initiatives(self):
        from portfolio.selectors import initiative_list

        return initiative_list(user=self.context["request"].user)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not reads_whole_organisation(request.user):
            # One query per response: a list reuses this (child) serializer for every row.
            if not hasattr(self, "_visible_ids"):
                self._visible_ids = set(self._visible_initiatives().values_list("pk", flat=True))
            data["initiatives"] = [pk for pk in data["initiatives"] if pk in self._visible_ids]
        return data

    def validate_initiatives(self, chosen):
        """Keep links the caller cannot see: the service replaces the whole set."""
        if self.instance is None:
            return chosen
        hidden = self.instance.initiatives.exclude(pk__in=self._visible_initiatives().values("pk"))
        return list(chosen) + list(hidden)


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
