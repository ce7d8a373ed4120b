"""Input shape and validation for initiatives. Forms never save: views hand the cleaned
data to ``portfolio.initiatives.services``."""

from django import forms
from django.contrib.auth import get_user_model

from core.choices import BU_WRITE_ROLES
from core.forms import CustomFieldsFormMixin
from core.models import BusinessUnit
from core.permissions import business_unit_ids, writes_whole_organisation
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.services import INITIATIVE_FIELDS


def user_label(user) -> str:
    full_name = user.get_full_name()
    return f"{full_name} ({user.username})" if full_name else user.username


def writable_business_units(user, instance):
    """The units ``user`` may register initiatives in (every unit for organisation-wide
    writers), plus ``instance``'s own unit when it is already stored; by name."""
    units = BusinessUnit.objects.order_by("name")
    if not writes_whole_organisation(user):
        allowed = business_unit_ids(user, BU_WRITE_ROLES)
        if instance.pk:
            allowed.add(instance.business_unit_id)
        units = units.filter(pk__in=allowed)
    return units


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return user_label(obj)


class InitiativeForm(CustomFieldsFormMixin, forms.ModelForm):
    class Meta:
        model = Initiative
        fields = list(INITIATIVE_FIELDS)
        field_classes = {
            "accountable_owner": UserChoiceField,
            "technical_lead": UserChoiceField,
            "executive_sponsor": UserChoiceField,
        }
        widgets = {
            # ISO format: the en-GB locale's dd/mm/yyyy shows as blank in type="date" inputs.
            "initiated_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "realised_value_as_of": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "value_evidence_url": forms.URLInput(),
            "problem_statement": forms.Textarea(attrs={"rows": 3}),
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "outputs": forms.Textarea(attrs={"rows": 2}),
            "impacted_stakeholders": forms.Textarea(attrs={"rows": 2}),
            "links": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        for name in ("accountable_owner", "technical_lead", "executive_sponsor"):
            self.fields[name].queryset = people
        units = writable_business_units(user, self.instance)
        self.fields["business_unit"].queryset = units
        if not self.instance.pk and units.count() == 1:
            self.fields["business_unit"].initial = units.first()
        if not self.instance.pk and not self.initial.get("accountable_owner"):
            self.fields["accountable_owner"].initial = user.pk
        self.fields["title"].widget.attrs["autofocus"] = True
        self.add_custom_fields(user)


class StageChangeForm(forms.Form):
    to_stage = forms.ChoiceField(label="New stage")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        from portfolio.initiatives.choices import GATED_STAGES, STAGE_TRANSITIONS, Stage

        allowed = [
            stage
            for stage in STAGE_TRANSITIONS.get(initiative.stage, ())
            if stage not in GATED_STAGES or initiative.stage == Stage.PAUSED
        ]
        self.fields["to_stage"].choices = [
            (value, label) for value, label in Stage.choices if value in allowed
        ]
