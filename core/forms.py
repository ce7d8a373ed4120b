from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet

from core.choices import NotificationKind, Role, TokenScope
from core.models import BusinessUnit, Webhook


def apply_validation_error(form, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form, field by field where it names fields."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else NON_FIELD_ERRORS
            for item in errors:
                form.add_error(None if target == NON_FIELD_ERRORS else target, item)
    else:
        form.add_error(None, error)


def submit_through_service(request, form, save, success, to=None):
    """The POST half of every create/edit view.

    When the form is valid, ``save(cleaned_data)`` calls the service; on success the user gets
    the ``success(obj)`` message and a redirect to the object (or to ``to(obj)``, when the
    object has no page of its own), and a service ValidationError lands on the form's fields.
    Returns the redirect, or None to re-render the form.
    """
    from django.contrib import messages
    from django.shortcuts import redirect

    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = save(form.cleaned_data)
    except ValidationError as error:
        apply_validation_error(form, error)
        return None
    messages.success(request, success(saved))
    return redirect(saved if to is None else to(saved))


# What each kind covers, shown under its checkbox on the preferences page.
NOTIFICATION_KIND_HELP = {
    NotificationKind.APPROVAL_REQUESTED: "Someone asks you to review or approve a gate.",
    NotificationKind.APPROVAL_DECIDED: "A request you raised or follow is approved or rejected.",
    NotificationKind.APPROVAL_ESCALATED: "An approval is overdue and escalated to you.",
    NotificationKind.GATE_BLOCKED: "An initiative cannot pass a gate until something is done.",
    NotificationKind.MODEL_REVIEW: "A model you own is due for validation, or overdue.",
    NotificationKind.MODEL_DRIFT: "A production model you depend on reports drift.",
    NotificationKind.GPU_FINDING: "GPUs you requested or own are idle, orphaned or oversized.",
    NotificationKind.AUDIT_ALERT: "Integrity checks of the audit log fail (administrators).",
    NotificationKind.MENTION: "Someone @mentions you in the discussion of a page you can see.",
    NotificationKind.GENERAL: "Everything else.",
}


class NotificationPreferencesForm(forms.Form):
    """One "email me" checkbox per notification kind; ``cleaned_data`` maps kind → bool."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label, required=False, help_text=NOTIFICATION_KIND_HELP[kind]
            )


class WebhookAdminForm(forms.ModelForm):
    """The admin's webhook form: kinds as checkboxes instead of raw JSON."""

    url = forms.URLField(
        max_length=500,
        assume_scheme="https",  # a URL typed without a scheme means https
        widget=forms.URLInput(attrs={"class": "vURLField"}),
        help_text=Webhook._meta.get_field("url").help_text,
    )
    kinds = forms.MultipleChoiceField(
        choices=NotificationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Event kinds to send; none selected means all.",
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "business_unit", "kinds", "is_active"]


class WebhookForm(forms.Form):
    """A webhook on Keel's own admin page (``core.views.webhook_*``): what it receives and
    where. The URL's scheme rule and the kinds are checked again by the service."""

    name = forms.CharField(max_length=100, help_text="What receives it, e.g. “Ops chat”.")
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",  # a URL typed without a scheme means https
        help_text=Webhook._meta.get_field("url").help_text,
    )
    business_unit = forms.ModelChoiceField(
        queryset=BusinessUnit.objects.order_by("name"),
        required=False,
        empty_label="Every business unit (global)",
        help_text=Webhook._meta.get_field("business_unit").help_text,
    )
    kinds = forms.MultipleChoiceField(
        label="Events",
        choices=NotificationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Event kinds to send; none selected means all.",
    )

    @classmethod
    def for_webhook(cls, webhook, data=None):
        initial = {
            "name": webhook.name,
            "url": webhook.url,
            "business_unit": webhook.business_unit_id,
            "kinds": webhook.kinds,
        }
        return cls(data, initial=initial)


# Browsers only understand ISO dates in <input type="date">, whatever the site's locale.
ISO_DATE = "%Y-%m-%d"


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format=ISO_DATE)


def permitted_units(user, predicate, *, current=None) -> QuerySet[BusinessUnit]:
    """Business units for which ``predicate(user, unit)`` holds, plus ``current`` (the unit an
    edited object already belongs to), by name."""
    allowed = {unit.pk for unit in BusinessUnit.objects.only("pk") if predicate(user, unit)}
    if current is not None:
        allowed.add(current)
    return BusinessUnit.objects.filter(pk__in=allowed).order_by("name")


def may_create_for_some_unit(user, predicate) -> bool:
    """Whether ``predicate(user, unit)`` holds for at least one business unit."""
    return any(predicate(user, unit) for unit in BusinessUnit.objects.only("pk"))


class ApiTokenForm(forms.Form):
    """A new personal API token: a name, a lifetime and a scope (``core.tokens`` checks)."""

    name = forms.CharField(
        max_length=100,
        help_text="What will use it, e.g. “nightly export script”.",
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        initial=90,
        help_text="90 days unless you need longer; the administrator sets the maximum.",
    )
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
        help_text="Read only cannot change anything, whatever your roles allow.",
    )

    def __init__(self, *args, max_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].max_value = max_days
        self.fields["days"].widget.attrs["max"] = max_days
        self.fields["days"].validators.append(MaxValueValidator(max_days))


class PersonInviteForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autofocus": True}))
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    business_unit = forms.ModelChoiceField(
        queryset=BusinessUnit.objects.order_by("name"),
        required=False,
        help_text="Optional: a first membership.",
    )
    role = forms.ChoiceField(choices=[("", "—"), *Role.choices], required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("business_unit")) != bool(data.get("role")):
            raise forms.ValidationError("Choose both a business unit and a role, or neither.")
        return data


class MembershipGrantForm(forms.Form):
    business_unit = forms.ModelChoiceField(queryset=BusinessUnit.objects.order_by("name"))
    role = forms.ChoiceField(choices=Role.choices)


class PeopleFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    role = forms.ChoiceField(choices=[("", "Any role"), *Role.choices], required=False)
    business_unit = forms.ModelChoiceField(
        queryset=BusinessUnit.objects.order_by("name"), required=False, empty_label="Any unit"
    )
    status = forms.ChoiceField(
        choices=[("", "Active and inactive"), ("active", "Active"), ("inactive", "Inactive")],
        required=False,
    )


class GroupMappingForm(forms.Form):
    """A directory group → role mapping (People › Group mappings)."""

    provider = forms.ChoiceField(
        required=False,
        help_text="Which identity provider sends this group; “Any” includes SCIM.",
    )
    group = forms.CharField(
        max_length=255,
        help_text="Exactly as the provider sends it: a name, a distinguished name or an id.",
    )
    role = forms.ChoiceField(choices=Role.choices)
    business_unit = forms.ModelChoiceField(
        queryset=BusinessUnit.objects.order_by("name"),
        required=False,
        empty_label="The organisation (organisation-wide roles)",
    )

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [("", "Any provider"), *providers]


class KeelAuthenticationForm(AuthenticationForm):
    """The local sign-in form; with ``KEEL_LOCAL_LOGIN`` off only superusers (break-glass)
    may use a password."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not settings.KEEL_LOCAL_LOGIN and not user.is_superuser:
            raise ValidationError(
                "Local passwords are switched off here: sign in with your organisation's account.",
                code="local_login_off",
            )


class KeelPasswordResetForm(PasswordResetForm):
    """Password reset by email; with local passwords off, only for superusers."""

    def get_users(self, email):
        users = super().get_users(email)
        if settings.KEEL_LOCAL_LOGIN:
            return users
        return (user for user in users if user.is_superuser)


# --- custom fields (issue 20) ---------------------------------------------------------------


def custom_form_field(definition, *, initial=None) -> forms.Field:
    """The form field of one custom-field definition (a value in its stored form as
    ``initial``)."""
    from django.contrib.auth import get_user_model

    from core.choices import CustomFieldType
    from core.customfields import TEXT_LIMITS, required_label

    kind = definition.field_type
    help_text = " ".join(
        part for part in (definition.help_text, required_label(definition)) if part
    )
    common = {
        "label": definition.label,
        "required": definition.required == "always",
        "help_text": help_text,
        "initial": initial,
    }
    choices = [(choice, choice) for choice in definition.choices]
    if kind == CustomFieldType.TEXT:
        return forms.CharField(max_length=TEXT_LIMITS[kind], **common)
    if kind == CustomFieldType.LONG_TEXT:
        return forms.CharField(
            max_length=TEXT_LIMITS[kind], widget=forms.Textarea(attrs={"rows": 3}), **common
        )
    if kind == CustomFieldType.INTEGER:
        return forms.IntegerField(**common)
    if kind == CustomFieldType.DECIMAL:
        return forms.DecimalField(**common)
    if kind == CustomFieldType.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
        )
    if kind == CustomFieldType.BOOLEAN:
        # Yes / no / not stated: a checkbox could not tell "no" from "not filled in".
        return forms.NullBooleanField(
            widget=forms.Select(choices=[("unknown", "—"), ("true", "Yes"), ("false", "No")]),
            **common,
        )
    if kind == CustomFieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if kind == CustomFieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == CustomFieldType.URL:
        return forms.URLField(max_length=500, assume_scheme="https", **common)
    if kind == CustomFieldType.USER:
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        return forms.ModelChoiceField(queryset=people, **common)
    if kind == CustomFieldType.BUSINESS_UNIT:
        return forms.ModelChoiceField(queryset=BusinessUnit.objects.order_by("name"), **common)
    raise ValueError(f"Unknown custom field type {kind!r}")


class CustomFieldsFormMixin:
    """For a ModelForm of a register with custom fields: one ``cf_<name>`` field per
    definition the user sees (after the model's own fields), and ``cleaned_data
    ["custom_fields"]`` the record's values with the shown fields laid over, in stored
    form (fields the user cannot see keep their values). Pass ``user=``; the service's
    ``full_clean`` validates again, and its ``cf_<name>`` errors land on these fields."""

    custom_fields_entity = ""

    def add_custom_fields(self, user) -> None:
        from core.customfields import definitions

        self.fields.pop("custom_fields", None)
        entity = self.custom_fields_entity or self._meta.model.custom_fields_entity
        self.custom_definitions = definitions(entity, user=user)
        stored = getattr(self.instance, "custom_fields", None) or {}
        adding = self.instance._state.adding
        for definition in self.custom_definitions:
            value = stored.get(definition.name)
            if adding and value is None:
                value = definition.default
            self.fields[definition.key] = custom_form_field(definition, initial=value)

    def custom_field_names(self) -> list[str]:
        return [definition.key for definition in getattr(self, "custom_definitions", [])]

    def clean(self):
        from core.customfields import coerce, is_empty, merged

        cleaned = super().clean()
        incoming = {}
        for definition in getattr(self, "custom_definitions", []):
            if definition.key not in self.fields or definition.key in self.errors:
                continue
            value = cleaned.get(definition.key)
            try:
                incoming[definition.name] = None if is_empty(value) else coerce(definition, value)
            except ValidationError as error:
                self.add_error(definition.key, error)
        stored = getattr(self.instance, "custom_fields", None) or {}
        shown = {definition.name for definition in getattr(self, "custom_definitions", [])}
        cleaned["custom_fields"] = merged(stored, incoming, names=shown)
        return cleaned

    def _post_clean(self):
        # The model form must not write the values into the instance itself (it has no
        # ``custom_fields`` field): the service does, through its full_clean.
        values = self.cleaned_data.pop("custom_fields", None)
        super()._post_clean()
        if values is not None:
            self.cleaned_data["custom_fields"] = values


class CustomFieldDefinitionForm(forms.ModelForm):
    """A CoE admin's definition of a custom field. Choices one per line; the default typed
    as text (checked against the type by the service). Entity and name are fixed once the
    field exists (values are stored under the name)."""

    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Choice fields: one allowed value per line, in order.",
    )
    default = forms.CharField(
        required=False, help_text="Value of a new record (as you would type it), or empty."
    )
    visible_to_roles = forms.MultipleChoiceField(
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Nobody ticked: everyone sees the field.",
    )
    required_from_stage = forms.ChoiceField(required=False, label="Required from stage")

    class Meta:
        from core.models import CustomFieldDefinition

        model = CustomFieldDefinition
        fields = [
            "entity",
            "name",
            "label",
            "field_type",
            "required",
            "required_from_stage",
            "default",
            "help_text",
            "order",
            "choices",
            "visible_to_roles",
        ]

    def __init__(self, *args, **kwargs):
        from core.customfields import ENTITIES, entity_choices

        super().__init__(*args, **kwargs)
        self.fields["entity"] = forms.ChoiceField(choices=entity_choices(), label="Register")
        stages = {value: label for entity in ENTITIES.values() for value, label in entity.stages}
        self.fields["required_from_stage"].choices = [("", "—"), *stages.items()]
        if self.instance.pk:
            for name in ("entity", "name"):
                self.fields[name].disabled = True
            self.initial["choices"] = "\n".join(self.instance.choices or [])
            default = self.instance.default
            self.initial["default"] = "" if default is None else default

    def clean_choices(self):
        text = self.cleaned_data.get("choices") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def clean_default(self):
        return (self.cleaned_data.get("default") or "").strip() or None


class RenameChoiceForm(forms.Form):
    old = forms.ChoiceField(label="Choice")
    new = forms.CharField(max_length=200, label="New value")

    def __init__(self, *args, definition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old"].choices = [(choice, choice) for choice in definition.choices]
