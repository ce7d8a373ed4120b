"""Filter helpers shared by every app's FilterSets (HTML lists and the API alike)."""

import django_filters
from django import forms
from django.db.models import F, Q

from core.models import AuditEvent
from core.selectors import business_unit_list

# A yes/no filter whose empty choice means "any" (Django's default says "Unknown").
ANY_YES_NO = forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])


def visible_business_units(request):
    """Choices for a business-unit filter: only the units the user may see (never all)."""
    user = getattr(request, "user", None)
    return (
        business_unit_list(user=user).select_related(None).only("pk", "name", "code")
        if user
        else None
    )


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Ordering that puts empty values last in either direction on every database, ties
    broken by ``tiebreak`` (a unique field) so pages never repeat or skip rows."""

    def __init__(self, *args, tiebreak="pk", **kwargs):
        self.tiebreak = tiebreak
        super().__init__(*args, **kwargs)

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        field = self.param_map.get(param.lstrip("-"), param.lstrip("-"))
        return F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)

    def filter(self, qs, value):
        ordered = super().filter(qs, value)
        if ordered is qs:
            return qs
        return ordered.order_by(*ordered.query.order_by, self.tiebreak)


class SearchFilter(django_filters.CharFilter):
    """Case-insensitive containment search across several fields."""

    def __init__(self, *args, search_fields=(), **kwargs):
        self.search_fields = search_fields
        kwargs.setdefault("label", "Search")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        value = (value or "").strip()
        if not value:
            return qs
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return qs.filter(condition)


def checkbox_groups(form) -> None:
    """Show every multi-valued field of a filter form as a group of checkboxes instead of a
    bare ``<select multiple>`` list box (which needs Ctrl-click and hides what is chosen).
    ``CheckboxSelectMultiple`` sets ``use_fieldset``, so ``core/_filter_field.html``
    renders the group as a fieldset with the field's label as its legend. Values and
    parameters (``?stage=a&stage=b``) are the same for either widget, so the API and saved
    links are unchanged."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.SelectMultiple) and not isinstance(
            widget, forms.CheckboxSelectMultiple
        ):
            # A list box's own attributes (its height) mean nothing on a checkbox.
            attrs = {k: v for k, v in widget.attrs.items() if k not in ("size", "multiple")}
            group = forms.CheckboxSelectMultiple(attrs=attrs)
            group.choices = widget.choices
            group.is_required = widget.is_required
            field.widget = group


def apply_filters(params, *, queryset, filterset_class, request=None):
    """(filterset, rows): the FilterSet applied to the already scoped ``queryset``. Invalid
    filters give no rows (never the unfiltered list); no parameters give every row. Lists,
    their pages and their exports all filter through here."""
    filterset = filterset_class(params or None, queryset=queryset, request=request)
    if not filterset.is_bound:
        return filterset, queryset
    return filterset, (filterset.qs if filterset.is_valid() else queryset.none())


class AuditEventFilterSet(django_filters.FilterSet):
    """The audit-log viewer's filters (page and export). The business-unit filter narrows to
    events about that unit's objects, through the same rule as a BU lead's scope."""

    actor = django_filters.CharFilter(
        field_name="actor__username", lookup_expr="icontains", label="Actor (username)"
    )
    action = django_filters.CharFilter(lookup_expr="icontains", label="Action")
    object_type = django_filters.CharFilter(label="Object type (e.g. portfolio.initiative)")
    object_id = django_filters.CharFilter(label="Object id")
    business_unit = django_filters.ModelChoiceFilter(
        queryset=visible_business_units, method="filter_business_unit", label="Business unit"
    )
    since = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="From (date)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="To (date)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields = []

    def filter_business_unit(self, queryset, name, value):
        from core.selectors import events_in_units

        return queryset.filter(events_in_units([value.pk])) if value else queryset


# --- custom fields (issue 20) ---------------------------------------------------------------


class CustomValueFilter(django_filters.Filter):
    """``?cf_<name>=value`` on a custom field: equality (membership for a multi-choice).
    On PostgreSQL the test is JSON containment (``@>``), which the column's GIN index
    answers; elsewhere (SQLite) a key look-up."""

    def __init__(self, *args, definition, **kwargs):
        self.definition = definition
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        from django.db import connection

        from core.choices import CustomFieldType
        from core.customfields import coerce, is_empty

        if is_empty(value):
            return qs
        definition = self.definition
        multi = definition.field_type == CustomFieldType.MULTI_CHOICE
        try:
            stored = coerce(definition, [value] if multi else value)
        except forms.ValidationError:
            return qs.none()
        name = definition.name
        if connection.vendor == "postgresql":
            return qs.filter(custom_fields__contains={name: stored})
        if multi:
            # SQLite's JSON_EXTRACT gives the list as JSON text: look for the quoted value.
            return qs.filter(**{f"custom_fields__{name}__icontains": f'"{stored[0]}"'})
        return qs.filter(**{f"custom_fields__{name}": stored})


class CustomRangeFilter(django_filters.Filter):
    """``?cf_<name>_min=`` / ``_max=`` on a number or date field (inclusive bounds)."""

    def __init__(self, *args, definition, bound, **kwargs):
        self.definition = definition
        self.bound = bound
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        from core.customfields import coerce, is_empty

        if is_empty(value):
            return qs
        try:
            stored = coerce(self.definition, value)
        except forms.ValidationError:
            return qs.none()
        lookup = "gte" if self.bound == "min" else "lte"
        return qs.filter(**{f"custom_fields__{self.definition.name}__{lookup}": stored})


def custom_field_filters(entity: str, *, user=None) -> dict:
    """``cf_<name>`` (and ``cf_<name>_min``/``_max`` for numbers and dates) per definition
    the user sees, labelled for the list page's filter form."""
    from core.choices import CustomFieldType
    from core.customfields import RANGE_TYPES, definitions

    filters = {}
    for definition in definitions(entity, user=user):
        kind = definition.field_type
        key = definition.key
        if kind in RANGE_TYPES:
            widget = (
                forms.DateInput(attrs={"type": "date"})
                if kind == CustomFieldType.DATE
                else forms.NumberInput(attrs={"step": "any"})
            )
            for bound, word in (("min", "from"), ("max", "to")):
                filters[f"{key}_{bound}"] = CustomRangeFilter(
                    field_name="custom_fields",
                    definition=definition,
                    bound=bound,
                    label=f"{definition.label} ({word})",
                    widget=widget,
                )
        if kind in (CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE):
            filters[key] = CustomValueFilter(
                field_name="custom_fields",
                definition=definition,
                label=definition.label,
                widget=forms.Select(choices=[("", "Any"), *[(c, c) for c in definition.choices]]),
            )
        elif kind == CustomFieldType.BOOLEAN:
            filters[key] = CustomValueFilter(
                field_name="custom_fields",
                definition=definition,
                label=definition.label,
                widget=ANY_YES_NO,
            )
        else:
            filters[key] = CustomValueFilter(
                field_name="custom_fields", definition=definition, label=definition.label
            )
    return filters


class CustomFieldFilterSetMixin:
    """Adds the entity's custom-field filters (``custom_field_filters``) to a FilterSet, the
    same for the HTML list, its export and the API. ``custom_fields_entity`` names the
    entity; the request's user decides which fields show."""

    custom_fields_entity = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(getattr(self, "request", None), "user", None)
        if user is not None and not user.is_authenticated:
            user = None
        for name, custom_filter in custom_field_filters(
            self.custom_fields_entity, user=user
        ).items():
            custom_filter.parent = self
            custom_filter.model = self.queryset.model if self.queryset is not None else None
            self.filters[name] = custom_filter
