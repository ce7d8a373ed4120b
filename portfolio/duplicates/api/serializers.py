from rest_framework import serializers

from portfolio.duplicates.models import DuplicateCandidate
from portfolio.initiatives.models import Initiative


class DuplicateInitiativeSerializer(serializers.ModelSerializer):
    """One side of a pair, as the CoE compares them."""

    business_unit_code = serializers.CharField(source="business_unit.code", read_only=True)
    business_unit_name = serializers.CharField(source="business_unit.name", read_only=True)

    class Meta:
        model = Initiative
        fields = [
            "id",
            "reference",
            "title",
            "purpose",
            "stage",
            "business_unit",
            "business_unit_code",
            "business_unit_name",
        ]
        read_only_fields = fields


class DuplicateCandidateSerializer(serializers.ModelSerializer):
    first = DuplicateInitiativeSerializer(read_only=True)
    second = DuplicateInitiativeSerializer(read_only=True)
    score = serializers.FloatField(read_only=True, help_text="Trigram similarity from 0 to 1.")
    decided_by_username = serializers.CharField(
        source="decided_by.username", read_only=True, default=None
    )

    class Meta:
        model = DuplicateCandidate
        fields = [
            "id",
            "first",
            "second",
            "score",
            "status",
            "detected_at",
            "decided_by_username",
            "decided_at",
        ]
        read_only_fields = fields


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class MergeSerializer(serializers.Serializer):
    survivor = serializers.IntegerField(
        help_text="Id of the initiative that continues (one of the pair); the other is retired."
    )


class DuplicateRefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
