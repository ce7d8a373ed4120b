"""Serializers of the roadmap, barrier and scaling-metric endpoints. Writes are validated
here and applied by the services in ``portfolio.roadmap.services`` and
``portfolio.scaling.services``."""

from rest_framework import serializers

from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives
from portfolio.roadmap.models import IndicatorValue, RoadmapActivity, RoadmapPhase, SuccessIndicator
from portfolio.roadmap.services import ACTIVITY_FIELDS, PHASE_FIELDS
from portfolio.scaling.choices import Barrier
from portfolio.scaling.models import BarrierAssessment


class VisibleInitiatives(serializers.PrimaryKeyRelatedField):
    """Initiative ids the caller may see: any other id is "does not exist", never a hint."""

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return scope_initiatives(Initiative.objects.all(), user)


class RoadmapPhaseSerializer(serializers.ModelSerializer):
    activity_total = serializers.IntegerField(read_only=True)
    activity_done = serializers.IntegerField(read_only=True)

    class Meta:
        model = RoadmapPhase
        fields = [
            "id",
            "number",
            "name",
            "indicative_duration",
            *PHASE_FIELDS,
            "activity_total",
            "activity_done",
        ]
        read_only_fields = ["id", "number", "name", "indicative_duration"]


class RoadmapActivitySerializer(serializers.ModelSerializer):
    phase = serializers.SlugRelatedField(
        slug_field="number", queryset=RoadmapPhase.objects.all(), help_text="Phase number 1–4."
    )
    initiatives = VisibleInitiatives(many=True, required=False)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = RoadmapActivity
        fields = ["id", "phase", *ACTIVITY_FIELDS, "initiatives", "is_overdue"]
        read_only_fields = ["id"]


class IndicatorValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = IndicatorValue
        fields = ["on_date", "value"]


class SuccessIndicatorSerializer(serializers.ModelSerializer):
    phase = serializers.IntegerField(source="phase.number", read_only=True)
    history = IndicatorValueSerializer(many=True, read_only=True)

    class Meta:
        model = SuccessIndicator
        fields = [
            "id",
            "phase",
            "key",
            "name",
            "description",
            "unit",
            "target",
            "direction",
            "computed_by",
            "current_value",
            "history",
        ]
        read_only_fields = ["id", "phase", "key", "computed_by", "history"]


class BarrierAssessmentSerializer(serializers.ModelSerializer):
    initiative = VisibleInitiatives()
    barrier = serializers.ChoiceField(choices=Barrier.choices)
    score = serializers.IntegerField(min_value=1, max_value=5)
    business_unit = serializers.IntegerField(source="initiative.business_unit_id", read_only=True)
    assessed_by = serializers.CharField(source="assessed_by.username", read_only=True, default=None)

    class Meta:
        model = BarrierAssessment
        fields = [
            "id",
            "initiative",
            "business_unit",
            "barrier",
            "score",
            "note",
            "assessed_by",
            "assessed_at",
        ]
        read_only_fields = ["id", "business_unit", "assessed_by", "assessed_at"]
        # (initiative, barrier) is an upsert key for the service, not a uniqueness error.
        validators = []


class BarrierScoreSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MetricSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    definition = serializers.CharField()
    lower_is_better = serializers.BooleanField()
    value = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField()
    numerator_label = serializers.CharField()
    denominator_label = serializers.CharField()


class RecomputeResultSerializer(serializers.Serializer):
    values = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    )
