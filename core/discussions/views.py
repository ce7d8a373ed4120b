"""HTML views of a discussion: the section (an htmx partial on each subject's page, a page
of its own without JavaScript), posting, editing and deleting comments, and downloads."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.audit import object_type_of
from core.discussions import selectors, services
from core.discussions.forms import CommentEditForm, CommentForm
from core.discussions.permissions import can_delete_comment, can_edit_comment
from core.exports import stored_file_response
from core.forms import apply_validation_error
from core.htmx import is_partial_request

PARTIAL = "core/partials/_discussion.html"
PAGE = "core/discussion.html"


def discussion_context(
    *, user, subject, form=None, edit_form=None, editing=None, mentions=None
) -> dict:
    """What the Discussion section (``core/partials/_discussion.html``) shows for a subject
    the caller already resolved through its scoped selector: the comments, with what
    ``user`` may do to each, and the form. The subject pages spread it into their context."""
    now = timezone.now()
    comments = list(selectors.comment_list(subject=subject))
    for comment in comments:
        comment.may_edit = can_edit_comment(user, comment, now)
        comment.may_delete = can_delete_comment(user, comment, now)
    return {
        "discussion": {
            "subject": subject,
            "url": reverse("core:discussion", args=[object_type_of(subject), subject.pk]),
            "comments": comments,
            "form": form or CommentForm(),
            "edit_form": edit_form,
            "editing": editing,
            "not_notified": mentions.not_notified if mentions else [],
            "notified": mentions.notified if mentions else [],
            "subject_label": subject._meta.verbose_name,
        }
    }


def _render(request, subject, *, status=200, **kwargs):
    context = discussion_context(user=request.user, subject=subject, **kwargs)
    template = PARTIAL if is_partial_request(request) else PAGE
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _with_not_notified(message: str, mentions) -> str:
    """The success message, naming the mentions that notified nobody."""
    if not mentions.not_notified:
        return message
    return f"{message} Not notified: " + ", ".join(f"@{n}" for n in mentions.not_notified)


def _after_change(request, subject, message: str, anchor: str = "discussion", **kwargs):
    """htmx: the refreshed section; otherwise a message and back to the subject's page."""
    if is_partial_request(request):
        return _render(request, subject, **kwargs)
    messages.success(request, message)
    return redirect(f"{subject.get_absolute_url()}#{anchor}")


@login_required
@require_http_methods(["GET", "POST"])
def discussion(request, subject_type, pk):
    subject = selectors.discussion_subject_get(user=request.user, key=subject_type, pk=pk)
    if request.method == "GET":
        return _render(request, subject)
    form = CommentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            comment, mentions = services.comment_create(
                actor=request.user,
                subject=subject,
                body=form.cleaned_data["body"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return _after_change(
                request,
                subject,
                _with_not_notified("Comment posted.", mentions),
                anchor=f"comment-{comment.pk}",
                mentions=mentions,
            )
    # htmx swaps only 2xx answers: the invalid form comes back as 200 there, 400 otherwise.
    return _render(request, subject, form=form, status=200 if is_partial_request(request) else 400)


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request, pk):
    comment = selectors.comment_get(user=request.user, pk=pk)
    subject = comment.subject
    if not can_edit_comment(request.user, comment):
        return _render(request, subject, status=403)
    if request.method == "GET":
        form = CommentEditForm(initial={"body": comment.body}, prefix=f"comment-{comment.pk}")
        return _render(request, subject, edit_form=form, editing=comment.pk)
    form = CommentEditForm(request.POST, prefix=f"comment-{comment.pk}")
    if form.is_valid():
        try:
            comment, mentions = services.comment_edit(
                actor=request.user, comment=comment, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return _after_change(
                request,
                subject,
                _with_not_notified("Comment updated.", mentions),
                anchor=f"comment-{comment.pk}",
                mentions=mentions,
            )
    return _render(
        request,
        subject,
        edit_form=form,
        editing=comment.pk,
        status=200 if is_partial_request(request) else 400,
    )


@login_required
@require_POST
def comment_delete(request, pk):
    comment = selectors.comment_get(user=request.user, pk=pk)
    subject = comment.subject
    services.comment_delete(actor=request.user, comment=comment)
    return _after_change(request, subject, "Comment deleted.")


@login_required
@require_POST
def attachment_delete(request, pk):
    attachment = selectors.attachment_get(user=request.user, pk=pk)
    subject = attachment.subject
    services.attachment_delete(actor=request.user, attachment=attachment)
    return _after_change(request, subject, f"{attachment.original_name} removed.")


@login_required
@require_GET
def attachment_download(request, pk):
    """Stream an attachment to someone who may see its subject (404 otherwise), always as a
    download under its original name, never rendered inline."""
    attachment = selectors.attachment_get(user=request.user, pk=pk)
    response = stored_file_response(
        attachment.file,
        filename=attachment.original_name,
        content_type=services.attachment_content_type(attachment),
        missing="The attached file is missing.",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
