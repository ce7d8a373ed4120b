from django.urls import include, path

from core import customfield_views, views

app_name = "core"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_mark_read"),
    path(
        "notifications/preferences/",
        views.notification_preferences,
        name="notification_preferences",
    ),
    path("account/api-tokens/", views.api_tokens, name="api_tokens"),
    path("account/api-tokens/all/", views.api_tokens_all, name="api_tokens_all"),
    path("account/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("account/locked-sign-ins/", views.locked_sign_ins, name="locked_sign_ins"),
    path("account/sessions/", views.account_sessions, name="account_sessions"),
    path("custom-fields/", customfield_views.custom_field_list, name="custom_field_list"),
    *customfield_views.CUSTOM_FIELD_EXPORT.urlpatterns("custom-fields/", "custom_field_list"),
    path("custom-fields/new/", customfield_views.custom_field_create, name="custom_field_create"),
    path(
        "custom-fields/<int:pk>/",
        customfield_views.custom_field_update,
        name="custom_field_update",
    ),
    path(
        "custom-fields/<int:pk>/rename-choice/",
        customfield_views.custom_field_rename_choice,
        name="custom_field_rename_choice",
    ),
    path(
        "custom-fields/<int:pk>/delete/",
        customfield_views.custom_field_delete,
        name="custom_field_delete",
    ),
    path("people/", views.people_list, name="people_list"),
    *views.PEOPLE_EXPORT.urlpatterns("people/", "people_list"),
    path("people/invite/", views.person_invite, name="person_invite"),
    path("people/group-mappings/", views.group_mappings, name="group_mappings"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("audit/", views.audit_list, name="audit_list"),
    *views.AUDIT_EXPORT.urlpatterns("audit/", "audit_list"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("audit/<int:pk>/", views.audit_detail, name="audit_detail"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/new/", views.webhook_create, name="webhook_create"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/<str:action>/", views.webhook_action, name="webhook_action"),
    path("saved-filters/", views.saved_filter_list, name="saved_filters"),
    path("saved-filters/new/", views.saved_filter_create, name="saved_filter_create"),
    path("saved-filters/<int:pk>/delete/", views.saved_filter_delete, name="saved_filter_delete"),
    path("", include("core.discussions.urls")),
]
