"""The organisation (business units, memberships), the audit chain and notifications."""

import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from core.choices import (
    CustomFieldRequired,
    CustomFieldType,
    GrantedVia,
    NotificationKind,
    Role,
    TokenScope,
)
from core.storage import private_storage


class TransitionFieldGuard:
    """Mixin for a model whose state field (``transition_field``) changes only through its
    transition service (a compare-and-set ``UPDATE``, history and audit): ``save()`` refuses a
    changed value with ``transition_message`` and never writes the field, so a stale copy
    cannot put an old state back. The value as loaded is remembered by ``from_db`` and
    ``refresh_from_db``."""

    transition_field = ""
    transition_message = ""

    def save(self, *args, **kwargs):
        name = self.transition_field
        stored = getattr(self, "_stored_transition_value", None)
        if self.pk and stored is not None and getattr(self, name) != stored:
            raise ValidationError({name: self.transition_message})
        if self.pk and stored is not None and not kwargs.get("update_fields"):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != name
            ]
        super().save(*args, **kwargs)
        self._stored_transition_value = getattr(self, name)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_transition_value = instance.__dict__.get(cls.transition_field)
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._stored_transition_value = self.__dict__.get(self.transition_field)


class BusinessUnit(models.Model):
    """A business unit of the organisation; units nest through ``parent``.

    A name is unique among its siblings (case-insensitively), not across the organisation:
    federal bureaus such as "OCIO" or "OIG" exist under many agencies."""

    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=20, unique=True, help_text="Short code, e.g. RETAIL.")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_business_units",
    )
    cost_centre = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="business_unit_not_own_parent"
            ),
            models.UniqueConstraint(
                Lower("name"),
                "parent",
                name="business_unit_name_unique_in_parent",
                violation_error_message="A unit with this name already exists in that unit.",
            ),
            models.UniqueConstraint(
                Lower("name"),
                condition=models.Q(parent__isnull=True),
                name="business_unit_name_unique_top_level",
                violation_error_message="A top-level unit with this name already exists.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("core:business_unit_detail", args=[self.pk])


class Membership(models.Model):
    """A user's role in a business unit. A user may hold several roles in several units."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_via = models.CharField(
        max_length=16, choices=GrantedVia.choices, default=GrantedVia.MANUAL
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "business_unit", "role"], name="membership_unique_role"
            ),
        ]
        indexes = [models.Index(fields=["user", "role"])]

    def __str__(self):
        return f"{self.user} · {self.business_unit.code} · {self.get_role_display()}"


class Sequence(models.Model):
    """Named counters for human references (``AI-0042``), advanced under a row lock."""

    name = models.CharField(max_length=50, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}={self.last_value}"


class AuditChainHead(models.Model):
    """The single row holding the audit chain's tail.

    Writers lock this row (an UPDATE), not the newest audit row: locking the tail with
    ``ORDER BY … LIMIT 1 FOR UPDATE`` can return a stale row after the wait.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True, default="")

    def __str__(self):
        return f"audit head #{self.last_sequence}"


class AuditEvent(models.Model):
    """One append-only entry of the audit log.

    ``payload`` is the canonical JSON text of the event (sorted keys, compact separators);
    ``hash`` is HMAC-SHA-256(key, previous hash + payload). The other columns are copies of
    payload fields for querying; the verifier checks they still match the payload.
    """

    sequence = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True)
    payload = models.TextField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"


class AuditVerification(models.Model):
    """One run of ``verify_audit_chain`` over the whole chain (nightly, or started by an
    administrator): the audit-log page shows the latest."""

    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    checked = models.PositiveBigIntegerField()
    bad_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    bad_event_id = models.BigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self):
        return (
            f"audit verification {self.checked_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'BROKEN'}"
        )


class Notification(models.Model):
    """An in-app notification; also emailed after the transaction that created it commits."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    kind = models.CharField(
        max_length=32, choices=NotificationKind.choices, default=NotificationKind.GENERAL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.subject


class NotificationPreferenceQuerySet(models.QuerySet):
    def email_by_kind(self, *, user) -> dict[str, bool]:
        """Whether ``user`` wants email, for every kind; a kind without a row means yes."""
        chosen = dict(self.filter(user=user).values_list("kind", "email"))
        return {kind: chosen.get(kind, True) for kind in NotificationKind.values}


class NotificationPreference(models.Model):
    """A user's choice of email for one notification kind. No row means email on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NotificationPreferenceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_kind_display()} · email {'on' if self.email else 'off'}"


def validate_webhook_url(url: str) -> None:
    """Webhooks POST over HTTPS; plain HTTP is allowed only in DEBUG (local receivers)."""
    scheme = urlsplit(url).scheme.lower()
    allowed = {"https", "http"} if settings.DEBUG else {"https"}
    if scheme not in allowed:
        raise ValidationError(
            "A webhook URL must use https://."
            if not settings.DEBUG
            else "Use http:// or https://.",
            code="webhook_scheme",
        )


def generate_webhook_secret() -> str:
    return secrets.token_hex(32)


class WebhookQuerySet(models.QuerySet):
    def matching(self, *, kind: str, business_unit_id: int | None) -> list["Webhook"]:
        """Active webhooks that want ``kind``: the global ones and those of the event's unit."""
        scope = models.Q(business_unit__isnull=True)
        if business_unit_id is not None:
            scope |= models.Q(business_unit_id=business_unit_id)
        # The kinds filter runs in Python: SQLite has no JSON containment lookup, and an
        # organisation has a handful of webhooks.
        return [
            webhook
            for webhook in self.filter(scope, is_active=True).order_by("pk")
            if webhook.wants(kind)
        ]


class Webhook(models.Model):
    """An outgoing webhook: events are POSTed as JSON, signed with HMAC-SHA-256 of ``secret``.

    A webhook without a business unit is global (every event); one with a unit receives only
    that unit's events. An empty ``kinds`` list means every kind.
    """

    name = models.CharField(max_length=100)
    url = models.URLField(
        max_length=500,
        validators=[validate_webhook_url],
        help_text="Receiver endpoint; https:// (http:// only in development).",
    )
    secret = models.CharField(max_length=128, default=generate_webhook_secret, editable=False)
    business_unit = models.ForeignKey(
        BusinessUnit,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="Leave empty for a global webhook that receives every unit's events.",
    )
    kinds = models.JSONField(
        default=list, blank=True, help_text="Event kinds to send; none selected means all."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def clean(self):
        if not isinstance(self.kinds, list) or not set(self.kinds) <= set(NotificationKind.values):
            raise ValidationError({"kinds": "Choose kinds from the list of notification kinds."})

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


# The event a webhook delivery carries: a notification kind, or the test event an admin
# sends from the webhook's page ("ping", as GitHub and Stripe name theirs).
WEBHOOK_TEST_EVENT = "ping"
WEBHOOK_EVENT_CHOICES = [*NotificationKind.choices, (WEBHOOK_TEST_EVENT, "Test event (ping)")]


class WebhookDelivery(models.Model):
    """One event sent to one webhook, with its retries: what admins look at when it fails.

    ``delivery_id`` is the ``X-Keel-Delivery`` header; retries and redelivered tasks reuse it,
    so receivers can discard duplicates.
    """

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(unique=True)
    event = models.CharField(max_length=32, choices=WEBHOOK_EVENT_CHOICES)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.webhook} · {self.event} · {self.delivery_id}"


class ApiToken(models.Model):
    """A personal API token (``Authorization: Bearer keel_<prefix>_<secret>``). Only the
    SHA-256 of the whole key is stored; the key is shown once, when it is created. The token
    acts as its user, limited by ``scope`` (a read-only token may not change anything)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=10, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_recent_idx")]

    def __str__(self):
        return f"{self.name} (keel_{self.prefix}_…)"

    def state(self, now) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


class SavedFilter(models.Model):
    """A person's named filter of one list page (``core.saved_filters``): the list's path and
    the query string its filter bar produced. Applying one is only following
    ``path?query``, so the rows still come from the list's scoped selector."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    path = models.CharField(max_length=200, help_text="The list page, e.g. /initiatives/.")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, help_text="The filters, e.g. stage=pilot.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [Lower("name"), "pk"]
        constraints = [
            models.UniqueConstraint(
                "user", "path", Lower("name"), name="saved_filter_name_per_user_and_list"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.path})"

    def get_absolute_url(self):
        return f"{self.path}?{self.query}"


class UserSession(models.Model):
    """A signed-in browser session of a person (``core.sessions``): listed on their Sessions
    page, where they sign it out, or all others ("sign out everywhere")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]

    def __str__(self):
        return f"{self.user} · {self.user_agent[:40]}"


class GroupMapping(models.Model):
    """A directory group → a role (issue 18): whoever signs in through single sign-on (or is
    provisioned by SCIM) with ``group`` among their groups holds ``role`` in
    ``business_unit``. Memberships granted this way are recomputed at every sign-in; manual
    ones are never touched. A blank ``provider`` matches every identity provider and SCIM; a
    blank unit (organisation-wide roles only) means the top-level unit."""

    provider = models.CharField(
        max_length=200,
        blank=True,
        help_text="Identity provider id (blank: any provider, SCIM included).",
    )
    group = models.CharField(
        max_length=255,
        help_text="The group as the provider sends it: a name, a DN or an object id.",
    )
    business_unit = models.ForeignKey(
        BusinessUnit,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="group_mappings",
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "provider", "role", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "group", "business_unit", "role"],
                name="group_mapping_unique",
                violation_error_message="This group already grants this role in this unit.",
            ),
        ]
        indexes = [models.Index(fields=["group"], name="group_mapping_group_idx")]

    def __str__(self):
        where = self.business_unit.code if self.business_unit_id else "organisation"
        return f"{self.group} → {self.get_role_display()} · {where}"


class ScimIdentity(models.Model):
    """How the organisation's directory knows a person (SCIM provisioning, ``core.scim``): the
    SCIM ``id`` Keel gave them (a UUID, never reassigned) and the directory's own
    ``externalId``. A person gets one the first time the directory creates, reads or lists
    them; a SCIM DELETE ends it (the person stays, deactivated, for the audit trail)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_identity"
    )
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The user resource's meta.lastModified: every SCIM write of the person touches it.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SCIM identity"
        verbose_name_plural = "SCIM identities"

    def __str__(self):
        return f"{self.user} · {self.scim_id}"


class DirectoryGroup(models.Model):
    """A group of the organisation's directory, provisioned by SCIM (``core.scim``). Its
    members' directory-granted roles are what the ``GroupMapping`` rows give its
    ``display_name`` (``core.directory.memberships_sync``, provider ``scim``), recomputed
    whenever its name or members change."""

    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=255, db_index=True)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="directory_groups", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "pk"]

    def __str__(self):
        return self.display_name


# --- Discussions (issue 19): comments and attachments on registered subjects ---------------

COMMENT_MAX_LENGTH = 10_000


class Comment(models.Model):
    """A comment in the discussion of a subject (an initiative, a model, an approval request:
    whatever a higher app registers with ``core.discussions.services``). Plain text, shown
    escaped; ``mentions`` are the people it notified. Edits and deletions are soft (the row
    stays, the audit chain keeps what it said)."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    body = models.TextField(max_length=COMMENT_MAX_LENGTH, blank=True)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in_comments"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "created_at"])]

    def __str__(self):
        return f"Comment {self.pk} by {self.author_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def attachment_path(instance, filename):
    # A random folder per file: two uploads of "report.pdf" never collide, and the stored
    # name says nothing guessable; the original name is kept on the row.
    return f"attachments/{instance.subject_type_id}/{instance.subject_id}/{uuid.uuid4().hex}/file"


class Attachment(models.Model):
    """A file in a subject's discussion (uploaded with a comment), kept in the private
    storage and streamed only through the permission-checked download view."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, storage=private_storage, max_length=300)
    original_name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attachments"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self):
        return self.original_name


# The checks of definitions and of values, installed by ``core.customfields`` (which imports
# this module, so this one cannot import it): "definition" and "values".
CUSTOM_FIELD_CHECKS: dict = {}


class CustomFieldDefinition(models.Model):
    """One typed custom field of a register (``entity``, a key of ``core.customfields``'
    registry). Values live in the entity's ``custom_fields`` JSON column under ``name``;
    this row is their schema (type, choices, whether required, who sees it)."""

    entity = models.CharField(max_length=40)
    name = models.SlugField(
        max_length=40,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$",
                "Lower-case letters, digits and underscores, starting with a letter.",
            )
        ],
        help_text="Used in filters and exports as cf_<name>, e.g. cost_centre.",
    )
    label = models.CharField(max_length=100)
    field_type = models.CharField("type", max_length=20, choices=CustomFieldType.choices)
    required = models.CharField(
        max_length=12, choices=CustomFieldRequired.choices, default=CustomFieldRequired.NEVER
    )
    required_from_stage = models.CharField(
        max_length=20,
        blank=True,
        help_text="With 'required from a stage on': the stage from which it must be filled in.",
    )
    default = models.JSONField(null=True, blank=True, help_text="Value of a new record.")
    help_text = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    choices = models.JSONField(
        default=list, blank=True, help_text="The allowed values of a choice field, in order."
    )
    visible_to_roles = models.JSONField(
        default=list, blank=True, help_text="Roles that see the field; empty: everyone."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entity", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "name"], name="custom_field_name_per_entity")
        ]

    def __str__(self):
        return f"{self.entity}: {self.label}"

    @property
    def key(self) -> str:
        """The form field, filter and export name: ``cf_<name>``."""
        return f"cf_{self.name}"

    def clean(self):
        CUSTOM_FIELD_CHECKS["definition"](self)


class CustomFieldsModel(models.Model):
    """Abstract base of every register with custom fields: the ``custom_fields`` JSON column
    (values keyed by definition name) and their server-side validation, by type, as part of
    ``full_clean`` (errors keyed ``cf_<name>``). ``custom_fields_entity`` names the entity in
    ``core.customfields``' registry."""

    custom_fields_entity = ""

    custom_fields = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "custom_fields" not in (exclude or ()):
            try:
                CUSTOM_FIELD_CHECKS["values"](self)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
