"""Input shape for the risk questionnaire, overrides and controls. Forms never save: views
hand the cleaned data to ``governance.risk.services``, which owns the rules (minimum lengths,
allowed files, waiver limits) and reports breaches as field errors."""

from django import forms

from governance.risk.choices import AnswerType, ResultStatus, Tier


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
