from django.contrib import admin, messages

from core import services
from core.forms import WebhookAdminForm
from core.models import (
    AuditEvent,
    BusinessUnit,
    Membership,
    Notification,
    NotificationPreference,
    Webhook,
    WebhookDelivery,
)
from core.permissions import can_manage_organisation


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """History rows written by services: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BusinessUnit)
class BusinessUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent", "head", "cost_centre"]
    search_fields = ["name", "code"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "business_unit", "role"]
    list_filter = ["role", "business_unit"]
    search_fields = ["user__username", "business_unit__code"]
    list_select_related = ["user", "business_unit"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: audit rows are append-only and written by services only."""

    list_display = ["sequence", "created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "object_repr", "action"]
    list_select_related = ["actor"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "subject", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]
    readonly_fields = ["recipient", "kind", "subject", "body", "url", "created_at", "emailed_at"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Read-only: users set their own preferences on the preferences page."""

    list_display = ["user", "kind", "email", "updated_at"]
    list_filter = ["kind", "email"]
    search_fields = ["user__username"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WebhookManagersOnly:
    """Webhooks send Keel's events out of the organisation, so only CoE admins and superusers
    see or change them, whatever Django model permissions a staff user holds."""

    def has_module_permission(self, request):
        return can_manage_organisation(request.user)

    def has_view_permission(self, request, obj=None):
        return can_manage_organisation(request.user)

    def has_add_permission(self, request):
        return can_manage_organisation(request.user)

    def has_change_permission(self, request, obj=None):
        return can_manage_organisation(request.user)

    def has_delete_permission(self, request, obj=None):
        return can_manage_organisation(request.user)


@admin.register(Webhook)
class WebhookAdmin(WebhookManagersOnly, admin.ModelAdmin):
    """Writes go through the webhook services (validation and audit event); the signing
    secret is shown once, when the webhook is created or its secret rotated."""

    form = WebhookAdminForm
    list_display = ["name", "url", "business_unit", "kinds", "is_active", "created_at"]
    list_filter = ["is_active", "business_unit"]
    search_fields = ["name", "url"]
    list_select_related = ["business_unit"]
    readonly_fields = ["created_at"]
    actions = ["rotate_secret"]

    def save_form(self, request, form, change):
        data = {name: form.cleaned_data[name] for name in services.WEBHOOK_FIELDS}
        if change:
            return services.webhook_update(actor=request.user, webhook=form.instance, data=data)
        return services.webhook_create(actor=request.user, data=data)

    def save_model(self, request, obj, form, change):
        """Nothing left to do: ``save_form`` saved through the service."""

    def save_related(self, request, form, formsets, change):
        """A webhook has no related objects edited on its form."""

    def response_add(self, request, obj, post_url_continue=None):
        self._show_secret(request, obj, obj.secret)
        return super().response_add(request, obj, post_url_continue)

    def delete_model(self, request, obj):
        services.webhook_delete(actor=request.user, webhook=obj)

    def delete_queryset(self, request, queryset):
        for webhook in queryset:
            services.webhook_delete(actor=request.user, webhook=webhook)

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for webhook in queryset:
            secret = services.webhook_rotate_secret(actor=request.user, webhook=webhook)
            self._show_secret(request, webhook, secret)

    def _show_secret(self, request, webhook, secret):
        messages.warning(
            request,
            f"Signing secret of “{webhook}”: {secret} — copy it to the receiver now; "
            "Keel does not show it again.",
        )


class DeliveryOutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("failing", "Not delivered (yet)"), ("delivered", "Delivered")]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(succeeded_at__isnull=True)
        if self.value() == "delivered":
            return queryset.filter(succeeded_at__isnull=False)
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(WebhookManagersOnly, admin.ModelAdmin):
    """Read-only record of deliveries, to spot failing receivers; old rows may be deleted."""

    list_display = [
        "created_at",
        "webhook",
        "event",
        "delivered",
        "status_code",
        "attempts",
        "last_attempt_at",
        "error",
    ]
    list_filter = [DeliveryOutcomeFilter, "event", "webhook"]
    search_fields = ["delivery_id", "webhook__name"]
    list_select_related = ["webhook"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="delivered")
    def delivered(self, delivery):
        return delivery.succeeded_at is not None

    @admin.display(description="last error")
    def error(self, delivery):
        return delivery.last_error[:120]
