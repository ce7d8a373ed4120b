"""Writes of duplicate detection: refreshing the possible duplicates of an initiative, and the
CoE's decisions on a pair (link as related, dismiss, merge)."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import record_event
from core.exceptions import Conflict
from core.scheduling import enqueue
from portfolio.duplicates.choices import DuplicateStatus
from portfolio.duplicates.matching import comparable_initiatives, find_similar, is_comparable
from portfolio.duplicates.models import DuplicateCandidate
from portfolio.duplicates.permissions import can_merge_duplicates, can_review_duplicates
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Deployment, Initiative
from portfolio.initiatives.services import MERGE_HOOKS, initiative_change_stage

logger = logging.getLogger(__name__)


class AlreadyDecided(Conflict):
    """The pair's status does not allow this decision (any more)."""


def ordered_pair(first_id: int, second_id: int) -> tuple[int, int]:
    """A pair is stored once, lower id first (the table's ``first_id < second_id``)."""
    return (first_id, second_id) if first_id < second_id else (second_id, first_id)


def _open_pairs_of(initiative_id: int):
    return DuplicateCandidate.objects.filter(
        Q(first_id=initiative_id) | Q(second_id=initiative_id), status=DuplicateStatus.OPEN
    )


# --- Detection -----------------------------------------------------------------------------


def duplicates_refresh(initiative: Initiative) -> int:
    """Bring the open possible duplicates of ``initiative`` up to date; return how many open
    pairs it is in.

    New pairs are added as open, open pairs get their current score, and open pairs that no
    longer qualify (the text changed, a unit moved, one side ended) are removed: nobody has
    decided about them yet. Pairs the CoE decided (related, merged, dismissed) are never
    touched, so a dismissed pair never comes back. Idempotent.
    """
    with transaction.atomic():
        if not is_comparable(initiative):
            _open_pairs_of(initiative.pk).delete()
            return 0
        scores = {
            ordered_pair(initiative.pk, other.pk): score
            for other, score in find_similar(initiative, limit=None)
        }
        existing = {
            (first_id, second_id): (pk, status, score)
            for pk, first_id, second_id, status, score in DuplicateCandidate.objects.filter(
                Q(first_id=initiative.pk) | Q(second_id=initiative.pk)
            ).values_list("pk", "first_id", "second_id", "status", "score")
        }
        stale = [
            pk
            for pair, (pk, status, _) in existing.items()
            if status == DuplicateStatus.OPEN and pair not in scores
        ]
        if stale:
            DuplicateCandidate.objects.filter(pk__in=stale, status=DuplicateStatus.OPEN).delete()
        now = timezone.now()
        # ignore_conflicts: a pair inserted meanwhile by the other side's refresh stands.
        DuplicateCandidate.objects.bulk_create(
            [
                DuplicateCandidate(first_id=first, second_id=second, score=score, detected_at=now)
                for (first, second), score in scores.items()
                if (first, second) not in existing
            ],
            ignore_conflicts=True,
        )
        for pair, score in scores.items():
            pk, status, stored_score = existing.get(pair, (None, None, None))
            if status == DuplicateStatus.OPEN and abs(stored_score - score) > 1e-6:
                DuplicateCandidate.objects.filter(pk=pk, status=DuplicateStatus.OPEN).update(
                    score=score
                )
        return _open_pairs_of(initiative.pk).count()


def duplicates_refresh_all() -> int:
    """Nightly: refresh every comparable initiative and drop open pairs whose initiatives
    ended or were merged meanwhile. Returns the number of open pairs."""
    ended = Initiative.objects.exclude(pk__in=comparable_initiatives().values("pk"))
    DuplicateCandidate.objects.filter(
        Q(first__in=ended) | Q(second__in=ended), status=DuplicateStatus.OPEN
    ).delete()
    for initiative in comparable_initiatives().order_by("pk").iterator(chunk_size=500):
        duplicates_refresh(initiative)
    return DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).count()


def schedule_duplicate_detection(initiative_id: int) -> None:
    """Portfolio change hook (after commit): look for duplicates in the background. A
    failure to enqueue is logged, not raised into a request that already committed; the
    nightly run catches up."""
    try:
        enqueue("portfolio.duplicate_tasks.detect_duplicates_task", initiative_id)
    except Exception:
        logger.exception("Could not schedule duplicate detection for initiative %s", initiative_id)


# --- Decisions -----------------------------------------------------------------------------


def _decide(
    *, actor, candidate: DuplicateCandidate, to_status: str
) -> tuple[str, DuplicateCandidate]:
    """Move the pair to ``to_status`` with a compare-and-set on its current status; return
    (the status it had, the updated pair). Call inside a transaction."""
    locked = DuplicateCandidate.objects.select_for_update().filter(pk=candidate.pk).first()
    if locked is None:
        # A refresh removed it: the initiatives changed and no longer look alike.
        raise AlreadyDecided("This pair is no longer a possible duplicate; reload the list.")
    from_status = locked.status
    if not locked.can_become(to_status):
        raise AlreadyDecided(
            f"This pair is already {locked.get_status_display().lower()}; it cannot be "
            f"{DuplicateStatus(to_status).label.lower()} now."
        )
    now = timezone.now()
    updated = DuplicateCandidate.objects.filter(pk=locked.pk, status=from_status).update(
        status=to_status, decided_by=actor, decided_at=now
    )
    if updated != 1:
        raise AlreadyDecided("This pair was decided meanwhile; reload and try again.")
    locked.status, locked.decided_by, locked.decided_at = to_status, actor, now
    return from_status, locked


def _pair_description(candidate: DuplicateCandidate) -> dict:
    return {"first": candidate.first_id, "second": candidate.second_id, "score": candidate.score}


def duplicate_link(*, actor, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """Record that the two initiatives are related (both continue)."""
    if not can_review_duplicates(actor):
        raise PermissionDenied("Only the CoE and risk officers decide about duplicates.")
    with transaction.atomic():
        from_status, decided = _decide(
            actor=actor, candidate=candidate, to_status=DuplicateStatus.RELATED
        )
        record_event(
            actor=actor,
            action="duplicate.linked",
            target=decided,
            before={"status": from_status},
            after={"status": decided.status, **_pair_description(decided)},
        )
    return decided


def duplicate_dismiss(
    *, actor, candidate: DuplicateCandidate, reason: str = ""
) -> DuplicateCandidate:
    """Record that the two initiatives are not duplicates; the pair is never flagged again."""
    if not can_review_duplicates(actor):
        raise PermissionDenied("Only the CoE and risk officers decide about duplicates.")
    with transaction.atomic():
        from_status, decided = _decide(
            actor=actor, candidate=candidate, to_status=DuplicateStatus.DISMISSED
        )
        record_event(
            actor=actor,
            action="duplicate.dismissed",
            target=decided,
            before={"status": from_status},
            after={"status": decided.status, **_pair_description(decided)},
            reason=(reason or "").strip(),
        )
    return decided


def _merge_refusal(merged: Initiative, survivor: Initiative) -> str:
    """Why this merge cannot happen, or ""."""
    if merged.stage == Stage.REJECTED:
        return (
            f"{merged.reference} was rejected and cannot be retired into {survivor.reference}; "
            "keep it as the survivor or dismiss the pair."
        )
    if not is_comparable(merged):
        return f"{merged.reference} has already ended; there is nothing left to merge."
    if not is_comparable(survivor):
        return f"{survivor.reference} has ended; choose a live initiative as the survivor."
    return ""


def _move_deployments(*, actor, merged: Initiative, survivor: Initiative) -> int:
    """Move the merged initiative's deployments to the survivor where it has none for that
    business unit (the others stay, ended with the merged initiative)."""
    taken = set(survivor.deployments.values_list("business_unit_id", flat=True))
    moving = [
        deployment
        for deployment in merged.deployments.select_related("business_unit").order_by("pk")
        if deployment.business_unit_id not in taken
    ]
    if not moving:
        return 0
    Deployment.objects.filter(pk__in=[deployment.pk for deployment in moving]).update(
        initiative=survivor
    )
    for deployment in moving:
        deployment.initiative = survivor
        record_event(
            actor=actor,
            action="deployment.moved",
            target=deployment,
            before={"initiative": merged.pk, "initiative_reference": merged.reference},
            after={"initiative": survivor.pk, "initiative_reference": survivor.reference},
            reason=f"Merged {merged.reference} into {survivor.reference}",
        )
    return len(moving)


def duplicate_merge(
    *, actor, candidate: DuplicateCandidate, survivor: Initiative
) -> DuplicateCandidate:
    """Merge the pair into ``survivor`` (one of its two initiatives), in one transaction.

    The other initiative's deployments (where the survivor has none for that unit), GPU
    allocations and model links move to the survivor (the latter two through the registered
    ``MERGE_HOOKS``), it points at the survivor through ``merged_into`` and is retired with
    the reason "Merged into AI-…". Every move writes an audit event. Only CoE admins and
    administrators merge (see ``can_merge_duplicates``).
    """
    if not can_merge_duplicates(actor):
        raise PermissionDenied("Only CoE admins and administrators merge initiatives.")
    survivor_id = getattr(survivor, "pk", survivor)
    if survivor_id not in (candidate.first_id, candidate.second_id):
        raise ValidationError({"survivor": "Choose one of the two initiatives of this pair."})
    with transaction.atomic():
        # Locked in id order, so that two merges sharing an initiative cannot deadlock.
        initiatives = {
            initiative.pk: initiative
            for initiative in Initiative.objects.select_for_update()
            .filter(pk__in=[candidate.first_id, candidate.second_id])
            .order_by("pk")
        }
        survivor = initiatives[survivor_id]
        merged = initiatives[
            candidate.second_id if survivor_id == candidate.first_id else candidate.first_id
        ]
        refusal = _merge_refusal(merged, survivor)
        if refusal:
            raise ValidationError(refusal)
        from_status, decided = _decide(
            actor=actor, candidate=candidate, to_status=DuplicateStatus.MERGED
        )
        # Rows move before the retirement, so nothing of the merged initiative is left to be
        # flagged as orphaned by what retiring triggers.
        moved = {"deployments": _move_deployments(actor=actor, merged=merged, survivor=survivor)}
        for hook in MERGE_HOOKS:
            moved[getattr(hook, "__name__", repr(hook))] = hook(
                actor=actor, merged=merged, survivor=survivor
            )
        Initiative.objects.filter(pk=merged.pk).update(
            merged_into=survivor, updated_at=timezone.now()
        )
        record_event(
            actor=actor,
            action="initiative.merged",
            target=merged,
            before={"merged_into": None},
            after={"merged_into": survivor.pk, "merged_into_reference": survivor.reference},
        )
        initiative_change_stage(
            actor=actor,
            initiative=merged,
            to_stage=Stage.RETIRED,
            reason=f"Merged into {survivor.reference}",
        )
        _open_pairs_of(merged.pk).delete()
        record_event(
            actor=actor,
            action="duplicate.merged",
            target=decided,
            before={"status": from_status},
            after={
                "status": decided.status,
                **_pair_description(decided),
                "survivor": survivor.pk,
                "merged": merged.pk,
                "moved": moved,
            },
        )
    return decided
