from rest_framework import serializers

from core.api.customfields import CustomFieldsField
from portfolio.initiatives.models import Deployment, Initiative, StageChange
from portfolio.initiatives.services import INITIATIVE_FIELDS


class InitiativeSerializer(serializers.ModelSerializer):
    custom_fields = CustomFieldsField(entity="initiative")
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


class StageHistoryEntrySerializer(serializers.ModelSerializer):
    """One row of an initiative's stage history (read-only: history is a record)."""

    # Plain strings: as choice fields they would give ``Stage``'s enum a second and third name
    # in the schema and rename the initiative's ``StageEnum``.
    from_stage = serializers.CharField(
        read_only=True, help_text="The stage before (a Stage value; empty for the first row)."
    )
    to_stage = serializers.CharField(read_only=True, help_text="The stage after (a Stage value).")
    changed_by_username = serializers.CharField(
        source="changed_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = StageChange
        fields = ["id", "from_stage", "to_stage", "changed_at", "changed_by_username", "reason"]
        read_only_fields = fields


class DeploymentSerializer(serializers.ModelSerializer):
    business_unit_code = serializers.CharField(source="business_unit.code", read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "initiative",
            "business_unit",
            "business_unit_code",
            "status",
            "started_on",
            "ended_on",
            "created_at",
        ]
        read_only_fields = fields
