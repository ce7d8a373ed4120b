"""Input shapes of the roadmap and barrier pages. Forms validate and hand ``cleaned_data`` to
the services in ``portfolio.roadmap.services`` and ``portfolio.scaling.services``; they never
save."""

from django import forms
from django.contrib.auth import get_user_model

from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives
from portfolio.roadmap.models import RoadmapActivity, RoadmapPhase, SuccessIndicator
from portfolio.roadmap.services import (
    ACTIVITY_FIELDS,
    COMPUTED_INDICATOR_FIELDS,
    MANUAL_INDICATOR_FIELDS,
)
from portfolio.scaling.choices import Barrier
from portfolio.scaling.services import SCORE_LABELS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RoadmapPhaseForm(forms.ModelForm):
    class Meta:
        model = RoadmapPhase
        fields = [
            "status",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "description",
        ]
        widgets = {
            "planned_start": DATE,
            "planned_end": DATE,
            "actual_start": DATE,
            "actual_end": DATE,
            "description": forms.Textarea(attrs={"rows": 3}),
        }


class RoadmapActivityForm(forms.ModelForm):
    initiatives = forms.ModelMultipleChoiceField(
        queryset=Initiative.objects.none(),
        required=False,
        label="Linked initiatives",
        help_text="Hold Ctrl (⌘ on a Mac) to choose several.",
    )

    class Meta:
        model = RoadmapActivity
        fields = [*ACTIVITY_FIELDS, "initiatives"]
        widgets = {"due_on": DATE}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .order_by("last_name", "first_name", "username")
        )
        self.fields["owner"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )
        self.fields["initiatives"].queryset = scope_initiatives(
            Initiative.objects.only("pk", "reference", "title"), user
        ).order_by("reference")
        self.fields["initiatives"].widget.attrs["size"] = 8
        if self.instance.pk:
            self.initial["initiatives"] = list(
                self.instance.initiatives.values_list("pk", flat=True)
            )


class IndicatorForm(forms.ModelForm):
    """A manual indicator's fields, or only the target of a computed one."""

    class Meta:
        model = SuccessIndicator
        fields = list(MANUAL_INDICATOR_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = (
            COMPUTED_INDICATOR_FIELDS if self.instance.computed_by else MANUAL_INDICATOR_FIELDS
        )
        for name in list(self.fields):
            if name not in allowed:
                del self.fields[name]


SCORE_CHOICES = [(str(score), f"{score} · {label}") for score, label in SCORE_LABELS.items()]


class BarrierAssessmentForm(forms.Form):
    """Six rows, one per barrier: a 1–5 score and a note. A row left without a score is not
    assessed (and an existing score is kept)."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for row in rows:
            current = row.assessment
            score = forms.TypedChoiceField(
                label=row.label,
                choices=SCORE_CHOICES,
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect,
                initial=str(current.score) if current else None,
            )
            note = forms.CharField(
                label=f"Note on {row.label.lower()}",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=current.note if current else "",
            )
            self.fields[f"score_{row.barrier}"] = score
            self.fields[f"note_{row.barrier}"] = note
            self.rows.append((row, self[f"score_{row.barrier}"], self[f"note_{row.barrier}"]))

    def clean(self):
        cleaned = super().clean()
        for barrier in Barrier.values:
            if cleaned.get(f"note_{barrier}") and cleaned.get(f"score_{barrier}") is None:
                self.add_error(f"score_{barrier}", "Give a score with the note.")
        return cleaned

    def scores(self) -> dict[str, tuple[int, str]]:
        """``{barrier: (score, note)}`` for every scored row, for ``barriers_assess``."""
        return {
            barrier: (self.cleaned_data[f"score_{barrier}"], self.cleaned_data[f"note_{barrier}"])
            for barrier in Barrier.values
            if self.cleaned_data.get(f"score_{barrier}") is not None
        }
