from rest_framework import serializers

from core.models import BusinessUnit


class BusinessUnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = BusinessUnit
        fields = ["id", "name", "code", "parent", "head", "cost_centre", "created_at"]
        read_only_fields = ["id", "created_at"]
