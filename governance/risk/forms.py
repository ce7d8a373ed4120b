"""Input shape for the risk questionnaire, overrides and controls. Forms never save: views
hand the cleaned data to ``governance.risk.services``, which owns the rules (minimum lengths,
allowed files, waiver limits) and reports breaches as field errors."""

from django import forms

from governance.risk.choices import (
    INITIATIVE_GATES,
    AnswerType,
    Applicability,
    ControlKind,
    NISTFunction,
    ResultStatus,
    Tier,
)


def _number_answer(value) -> str:
    """A stored number answer as the number input shows it (``12.0`` → ``12``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class QuestionnaireForm(forms.Form):
    """One field per question of a questionnaire version, named by the question's key.

    Every field is optional: a draft is saved as it is answered, the live tier lists what is
    still unanswered, and ``assessment_complete`` refuses a draft with gaps.
    """

    def __init__(self, *args, questions, answers=None, given=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        # Answers known already (e.g. the wizard's data step): sent along hidden, never
        # asked again, and ``answers()`` keeps them whatever the request says.
        self.given = dict(given or {})
        if self.is_bound and self.given:
            self.data = self.data.copy()
            for key, value in self.given.items():
                self.data[key] = str(value)
        answers = {**(answers or {}), **self.given}
        for question in self.questions:
            field = self._field_for(question)
            if question.key in answers:
                value = answers[question.key]
                field.initial = (
                    _number_answer(value) if question.answer_type == AnswerType.NUMBER else value
                )
            if question.key in self.given:
                field.widget = forms.HiddenInput()
            self.fields[question.key] = field

    def _field_for(self, question) -> forms.Field:
        choices = [(choice.key, choice.label) for choice in question.choices.all()]
        common = {"label": question.text, "help_text": question.help_text, "required": False}
        if question.answer_type == AnswerType.MULTI:
            return forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
        if question.answer_type == AnswerType.NUMBER:
            # The fieldset's legend names the input; the service validates the value.
            attrs = {"min": 0, "step": "any", "aria-labelledby": f"id_{question.key}_legend"}
            if question.help_text:
                attrs["aria-describedby"] = f"id_{question.key}_helptext"
            return forms.CharField(widget=forms.NumberInput(attrs=attrs), **common)
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)

    def answers(self) -> dict:
        """The answers as the service takes them: lists for multiple choice, strings
        otherwise; an empty value clears the answer. Call after ``is_valid()``."""
        return {
            question.key: self.given.get(question.key, self.cleaned_data.get(question.key))
            for question in self.questions
        }


class OverrideForm(forms.Form):
    tier = forms.TypedChoiceField(
        label="Override tier",
        coerce=int,
        choices=Tier.choices,
        help_text="The computed tier is kept beside the override.",
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the computed tier is wrong for this use (at least 20 characters).",
    )

    def __init__(self, *args, assessment=None, **kwargs):
        super().__init__(*args, **kwargs)
        if assessment is not None and assessment.override_tier:
            # An existing override can be removed (with a justification, like any change).
            self.fields["tier"].choices = [("", "Remove the override"), *Tier.choices]
            self.fields["tier"].required = False
            self.fields["tier"].empty_value = None
            self.fields["tier"].initial = assessment.override_tier


class EvidenceForm(forms.Form):
    evidence_file = forms.FileField(label="File", required=False)
    evidence_link = forms.URLField(
        label="Link", required=False, max_length=500, assume_scheme="https"
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ReviewForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (ResultStatus.PASSING, ResultStatus.PASSING.label),
            (ResultStatus.FAILING, ResultStatus.FAILING.label),
        ]
    )
    note = forms.CharField(required=False, max_length=2000)


class WaiverForm(forms.Form):
    # Both optional here so the service's clearer messages (future date, at most a year,
    # a written reason) are the ones shown.
    expires_on = forms.DateField(
        label="Waived until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Why the control may be skipped until then (at least 20 characters).",
    )


# --- Governance content (issue 19) ----------------------------------------------------------

NOT_REQUIRED = ""


def requirement_field_name(gate: str) -> str:
    return f"requirement_{gate}"


class ControlForm(forms.Form):
    """A library control and, per initiative gate, the lowest tier that must meet it."""

    code = forms.CharField(
        max_length=20, help_text="Short and stable, e.g. DOC-02; it never changes."
    )
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    kind = forms.ChoiceField(choices=ControlKind.choices, initial=ControlKind.MANUAL)
    applies_when = forms.ChoiceField(choices=Applicability.choices, label="Applies")
    eu_ai_act_article = forms.CharField(label="EU AI Act article", max_length=50, required=False)
    nist_function = forms.ChoiceField(
        label="NIST AI RMF function",
        choices=[("", "—"), *NISTFunction.choices],
        required=False,
    )
    iso_42001_clause = forms.CharField(label="ISO/IEC 42001 clause", max_length=50, required=False)
    mitigation_weight = forms.IntegerField(
        min_value=0,
        max_value=100,
        initial=1,
        help_text="Points of the inherent risk score it removes while required and passing.",
    )

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
        tiers = [
            (NOT_REQUIRED, "Not required"),
            *((str(v), f"Tier {v} and above") for v in Tier.values),
        ]
        for gate in INITIATIVE_GATES:
            self.fields[requirement_field_name(gate)] = forms.ChoiceField(
                label=f"{gate.label} gate", choices=tiers, required=False
            )

    @classmethod
    def initial_for(cls, control) -> dict:
        initial = {
            field: getattr(control, field)
            for field in ("code", "title", "description", "kind", "applies_when")
            + ("eu_ai_act_article", "nist_function", "iso_42001_clause", "mitigation_weight")
        }
        for requirement in control.requirements.all():
            initial[requirement_field_name(requirement.gate)] = str(requirement.minimum_tier)
        return initial

    def requirement_fields(self):
        return [self[requirement_field_name(gate)] for gate in INITIATIVE_GATES]

    def control_fields(self):
        return [field for field in self if not field.name.startswith("requirement_")]

    def data_for_service(self) -> dict:
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if not key.startswith("requirement_")
        }

    def requirements(self) -> dict:
        """Gate → minimum tier, or None where not required."""
        return {
            gate: int(value)
            if (value := self.cleaned_data.get(requirement_field_name(gate)))
            else None
            for gate in INITIATIVE_GATES
        }

    def add_service_error(self, error) -> None:
        """Field-level errors from the service; ``requirements.<gate>`` lands on its row."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, messages in error.message_dict.items():
            if key.startswith("requirements."):
                key = requirement_field_name(key.split(".", 1)[1])
            for message in messages:
                self.add_error(key if key in self.fields else None, message)


class RetireForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Why the control is no longer required (at least 10 characters).",
    )


class QuestionnaireDraftForm(forms.Form):
    """Every editable value of a draft: its title, each question's wording and help, each
    choice's label, weight, tier floor and reason (fields ``q<pk>-…`` and ``c<pk>-…``)."""

    title = forms.CharField(max_length=200)

    def __init__(self, *args, questionnaire, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].initial = questionnaire.title
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}-text"] = forms.CharField(
                label="Question", max_length=300, initial=question.text
            )
            self.fields[f"q{question.pk}-help_text"] = forms.CharField(
                label="Help",
                required=False,
                initial=question.help_text,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            for choice in question.choices.all():
                self.fields[f"c{choice.pk}-label"] = forms.CharField(
                    label="Answer", max_length=300, initial=choice.label
                )
                self.fields[f"c{choice.pk}-weight"] = forms.IntegerField(
                    label="Weight", min_value=0, max_value=1000, initial=choice.weight
                )
                self.fields[f"c{choice.pk}-tier_floor"] = forms.TypedChoiceField(
                    label="Tier floor",
                    coerce=int,
                    choices=Tier.choices,
                    initial=choice.tier_floor,
                )
                self.fields[f"c{choice.pk}-reason"] = forms.CharField(
                    label="Reason", max_length=300, required=False, initial=choice.reason
                )

    def rows(self):
        """(question, its fields, [(choice, its fields)]) in the page's order."""
        return [
            (
                question,
                [self[f"q{question.pk}-text"], self[f"q{question.pk}-help_text"]],
                [
                    (
                        choice,
                        [
                            self[f"c{choice.pk}-{name}"]
                            for name in ("label", "weight", "tier_floor", "reason")
                        ],
                    )
                    for choice in question.choices.all()
                ],
            )
            for question in self.questions
        ]

    def edits(self) -> tuple[dict, dict]:
        """(question pk → values, choice pk → values) for ``questionnaire_draft_update``."""
        questions, choices = {}, {}
        for name, value in self.cleaned_data.items():
            if "-" not in name:
                continue
            key, field = name.split("-", 1)
            target = questions if key[0] == "q" else choices
            target.setdefault(int(key[1:]), {})[field] = value
        return questions, choices


class LibraryImportForm(forms.Form):
    file = forms.FileField(
        label="Library file (YAML)",
        required=False,
        help_text="A file exported from Keel's governance library.",
    )
    text = forms.CharField(widget=forms.HiddenInput, required=False)

    def yaml_text(self) -> str:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            try:
                return upload.read(2_000_000).decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("file", "The file must be UTF-8 text (YAML).")
                return ""
        return self.cleaned_data.get("text") or ""
