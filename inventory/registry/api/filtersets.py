"""The model-version FilterSet of the API (vendors use
``inventory.registry.filtersets.VendorFilterSet``).

It lives here because ``inventory/filtersets.py`` had no list of all versions when the API was
built; move it there once an HTML list needs the same filters (one FilterSet per model)."""

import django_filters

from core.filtersets import SearchFilter
from inventory.registry.choices import ModelStatus, MonitoringStatus
from inventory.registry.models import AIModel, ModelVersion
from inventory.registry.selectors import scope_models


def visible_models(request):
    """Choices for a model filter: only the models the user may see."""
    user = getattr(request, "user", None)
    return scope_models(AIModel.objects.only("pk", "name"), user) if user else None


class ModelVersionFilterSet(django_filters.FilterSet):
    q = SearchFilter(search_fields=("version", "model__name", "artefact_uri"))
    model = django_filters.ModelChoiceFilter(queryset=visible_models)
    status = django_filters.ChoiceFilter(choices=ModelStatus.choices)
    monitoring_status = django_filters.ChoiceFilter(choices=MonitoringStatus.choices)
    ordering = django_filters.OrderingFilter(
        fields=(
            ("created_at", "created"),
            ("next_review_due", "next_review_due"),
            ("version", "version"),
        ),
        label="Sort by",
    )

    class Meta:
        model = ModelVersion
        fields = ["q", "model", "status", "monitoring_status"]
