"""The CoE's possible-duplicates page and its actions (htmx, with plain-POST fallbacks):
resolve through the duplicate selectors, call one service, render the page or a partial."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from core.exports import ListExport, export_links, list_page, person_name
from core.htmx import is_partial_request, render_partial_aware
from portfolio.duplicates import selectors as duplicate_selectors
from portfolio.duplicates import services as duplicate_services
from portfolio.duplicates.choices import DuplicateStatus
from portfolio.duplicates.matching import duplicate_threshold, is_comparable
from portfolio.duplicates.permissions import can_merge_duplicates, can_review_duplicates
from portfolio.initiatives.selectors import initiative_get

CANDIDATE_PARTIAL = "portfolio/duplicates/partials/_duplicate_candidate.html"


def _refuse_unless_reviewer(user) -> None:
    if not can_review_duplicates(user):
        raise PermissionDenied("Only the CoE and risk officers review possible duplicates.")


def _status_from(request) -> str:
    status = request.GET.get("status") or DuplicateStatus.OPEN
    return status if status in DuplicateStatus.values else DuplicateStatus.OPEN


def _with_actions(candidate, *, may_merge: bool):
    """Mark which of the pair's buttons to show (the services check again on submit)."""
    candidate.may_link = candidate.can_become(DuplicateStatus.RELATED)
    candidate.may_dismiss = candidate.can_become(DuplicateStatus.DISMISSED)
    candidate.may_merge = (
        may_merge
        and candidate.can_become(DuplicateStatus.MERGED)
        and is_comparable(candidate.first)
        and is_comparable(candidate.second)
    )
    return candidate


def _duplicate_candidates(request):
    _refuse_unless_reviewer(request.user)
    return duplicate_selectors.duplicate_candidate_list(
        user=request.user, status=_status_from(request)
    )


DUPLICATE_EXPORT = ListExport(
    stem="possible-duplicates",
    title="Possible duplicates",
    columns=(
        ("First", lambda pair: pair.first.reference),
        ("First title", lambda pair: pair.first.title),
        ("Second", lambda pair: pair.second.reference),
        ("Second title", lambda pair: pair.second.title),
        ("Similarity", lambda pair: round(pair.score, 3)),
        ("Status", lambda pair: pair.get_status_display()),
        ("Detected at", lambda pair: pair.detected_at),
        ("Decided by", lambda pair: person_name(pair.decided_by)),
        ("Decided at", lambda pair: pair.decided_at),
    ),
    queryset=_duplicate_candidates,
)


@login_required
@require_GET
@list_page("portfolio:duplicate_list")
def duplicate_list(request):
    _refuse_unless_reviewer(request.user)
    status = _status_from(request)
    candidates = duplicate_selectors.duplicate_candidate_list(user=request.user, status=status)
    page = Paginator(candidates, settings.KEEL_PAGE_SIZE).get_page(request.GET.get("page"))
    may_merge = can_merge_duplicates(request.user)
    context = {
        "status": status,
        "statuses": [
            (value, "Open" if value == DuplicateStatus.OPEN else label)
            for value, label in DuplicateStatus.choices
        ],
        "page_obj": page,
        "rows": [_with_actions(candidate, may_merge=may_merge) for candidate in page],
        "querystring": f"status={status}",
        "threshold_percent": round(duplicate_threshold() * 100),
        **export_links(request, "portfolio:duplicate_list"),
    }
    return render_partial_aware(request, "portfolio/duplicates/duplicate_list.html", context)


def _respond(request, candidate, *, error: str = "", done: str = ""):
    """An htmx request gets the pair's card again (decided, or with the refusal); a plain
    POST goes back to the list with a message."""
    if is_partial_request(request):
        fresh = (
            duplicate_selectors.duplicate_candidates(user=request.user)
            .filter(pk=candidate.pk)
            .first()
        )
        if fresh is None:  # removed by a refresh meanwhile
            return HttpResponse(
                format_html(
                    '<article class="card" id="duplicate-{}"><p class="notice refused" '
                    'role="alert">{}</p></article>',
                    candidate.pk,
                    error or done,
                )
            )
        fresh = _with_actions(fresh, may_merge=can_merge_duplicates(request.user))
        context = {"candidate": fresh, "error": error, "done": done}
        return render(request, CANDIDATE_PARTIAL, context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(reverse("portfolio:duplicate_list"))


def _decide(request, pk, service, done: str, **arguments):
    _refuse_unless_reviewer(request.user)
    candidate = duplicate_selectors.duplicate_candidate_get(user=request.user, pk=pk)
    try:
        service(actor=request.user, candidate=candidate, **arguments)
    except ValidationError as error:
        return _respond(request, candidate, error=" ".join(error.messages))
    return _respond(request, candidate, done=done)


@login_required
@require_POST
def duplicate_link(request, pk):
    return _decide(request, pk, duplicate_services.duplicate_link, "Linked as related.")


@login_required
@require_POST
def duplicate_dismiss(request, pk):
    reason = request.POST.get("reason", "")[:1000]
    return _decide(
        request,
        pk,
        duplicate_services.duplicate_dismiss,
        "Dismissed: this pair will not be flagged again.",
        reason=reason,
    )


@login_required
@require_POST
def duplicate_merge(request, pk):
    _refuse_unless_reviewer(request.user)
    if not can_merge_duplicates(request.user):
        raise PermissionDenied("Only CoE admins and administrators merge initiatives.")
    candidate = duplicate_selectors.duplicate_candidate_get(user=request.user, pk=pk)
    try:
        survivor_id = int(request.POST.get("survivor", ""))
    except ValueError:
        return _respond(request, candidate, error="Choose which initiative to keep.")
    try:
        duplicate_services.duplicate_merge(
            actor=request.user, candidate=candidate, survivor=survivor_id
        )
    except ValidationError as error:
        return _respond(request, candidate, error=" ".join(error.messages))
    return _respond(request, candidate, done="Merged.")


@login_required
@require_GET
def duplicates_for_initiative(request, pk):
    """The "Possible duplicates" line of an initiative's page (loaded by htmx); empty for
    people who do not review duplicates."""
    initiative = initiative_get(user=request.user, pk=pk)
    if not can_review_duplicates(request.user):
        return HttpResponse("")
    pairs = duplicate_selectors.duplicates_of(user=request.user, initiative=initiative)
    context = {
        "initiative": initiative,
        "open_pairs": [
            (pair, other) for pair, other in pairs if pair.status == DuplicateStatus.OPEN
        ],
        "related_pairs": [
            (pair, other) for pair, other in pairs if pair.status == DuplicateStatus.RELATED
        ],
    }
    return render(request, "portfolio/duplicates/partials/_duplicate_summary.html", context)
