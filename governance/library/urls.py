"""The governance library's pages under /governance/library/ (namespace ``governance``)."""

from django.urls import path

from governance.library import views

urlpatterns = [
    path("library/controls/", views.control_library, name="control_library"),
    *views.CONTROL_EXPORT.urlpatterns("library/controls/", "control_library"),
    path("library/controls/new/", views.control_create, name="control_create"),
    path("library/controls/<str:code>/edit/", views.control_edit, name="control_edit"),
    path("library/controls/<str:code>/retire/", views.control_retire, name="control_retire"),
    path(
        "library/controls/<str:code>/reinstate/",
        views.control_reinstate,
        name="control_reinstate",
    ),
    path("library/questionnaires/", views.questionnaire_list, name="questionnaire_list"),
    *views.QUESTIONNAIRE_EXPORT.urlpatterns("library/questionnaires/", "questionnaire_list"),
    path(
        "library/questionnaires/draft/",
        views.questionnaire_draft_start,
        name="questionnaire_draft_start",
    ),
    path(
        "library/questionnaires/<int:pk>/",
        views.questionnaire_detail,
        name="questionnaire_detail",
    ),
    path(
        "library/questionnaires/<int:pk>/submit/",
        views.questionnaire_submit,
        name="questionnaire_submit",
    ),
    path(
        "library/questionnaires/<int:pk>/discard/",
        views.questionnaire_discard,
        name="questionnaire_discard",
    ),
    path("library/export.yaml", views.library_export, name="library_export"),
    path("library/import/", views.library_import, name="library_import"),
]
