from rest_framework import serializers

from portfolio.models import Initiative
from portfolio.services import INITIATIVE_FIELDS


class InitiativeSerializer(serializers.ModelSerializer):
    business_unit_code = serializers.CharField(source="business_unit.code", read_only=True)
    accountable_owner_username = serializers.CharField(
        source="accountable_owner.username", read_only=True
    )

    class Meta:
        model = Initiative
        fields = [
            "id",
            "reference",
            "stage",
            *INITIATIVE_FIELDS,
            "business_unit_code",
            "accountable_owner_username",
            "pilot_started_on",
            "production_on",
            "retired_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "reference",
            "stage",
            "pilot_started_on",
            "production_on",
            "retired_on",
            "created_at",
            "updated_at",
        ]


class StageChangeSerializer(serializers.Serializer):
    to_stage = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
