"""Discussion URLs, included in core's namespace (``core:discussion`` …)."""

from django.urls import path

from core.discussions import views

urlpatterns = [
    path(
        "discussions/<str:subject_type>/<int:pk>/",
        views.discussion,
        name="discussion",
    ),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
]
