"""The hash-chained audit log: ``record_event`` appends, ``verify_audit_chain`` checks.

Each event's canonical JSON text is stored verbatim and hashed as stored (never a
re-serialisation of a JSON column), chained with the previous event's hash under an HMAC key
from the environment. Deleting, editing or reordering any row breaks the chain; deleting the
newest rows is caught by comparing the chain head.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.models import AuditChainHead, AuditEvent

# Columns copied from the payload; the verifier checks each still equals the payload.
MIRRORED_FIELDS = ("sequence", "action", "object_type", "object_id", "object_repr", "reason")


def canonical_json(data) -> str:
    return json.dumps(
        data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def chain_hash(previous_hash: str, payload: str) -> str:
    key = settings.AUDIT_HMAC_KEY.encode()
    return hmac.new(key, (previous_hash + payload).encode(), hashlib.sha256).hexdigest()


def _advance_head(count: int = 1) -> AuditChainHead:
    """Take the chain head's row lock by advancing it ``count`` sequences, creating it on
    first use."""
    if not AuditChainHead.objects.filter(pk=1).update(last_sequence=F("last_sequence") + count):
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
        AuditChainHead.objects.filter(pk=1).update(last_sequence=F("last_sequence") + count)
    return AuditChainHead.objects.get(pk=1)


def object_type_of(target) -> str:
    return f"{target._meta.app_label}.{target._meta.model_name}"


def _chained_event(
    *,
    sequence,
    previous_hash,
    now,
    actor,
    action,
    target,
    object_type,
    object_id,
    before,
    after,
    reason,
) -> AuditEvent:
    """The (unsaved) event at ``sequence``, hashed on ``previous_hash``."""
    if target is not None:
        object_type = object_type_of(target)
        object_id = str(target.pk)
        object_repr = str(target)[:300]
    else:
        object_repr = ""
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    payload = canonical_json(
        {
            "sequence": sequence,
            "created_at": now,
            "actor_id": actor_id,
            "actor": actor.get_username() if actor_id else "system",
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "object_repr": object_repr,
            "before": before or {},
            "after": after or {},
            "reason": reason,
        }
    )
    return AuditEvent(
        sequence=sequence,
        created_at=now,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr,
        reason=reason,
        payload=payload,
        previous_hash=previous_hash,
        hash=chain_hash(previous_hash, payload),
    )


def record_event(
    *,
    actor,
    action: str,
    target=None,
    object_type: str = "",
    object_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one audit event; call inside the transaction that makes the change."""
    with transaction.atomic():
        head = _advance_head()
        event = _chained_event(
            sequence=head.last_sequence,
            previous_hash=head.last_hash,
            now=timezone.now(),
            actor=actor,
            action=action,
            target=target,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
            reason=reason,
        )
        event.save()
        AuditChainHead.objects.filter(pk=1).update(last_hash=event.hash)
    return event


def record_events(*, actor, events, reason: str = "") -> int:
    """Append ``events`` — (action, target, before, after) tuples, target may be None — in
    one go: the head advances once by their number and the rows go in with one
    ``bulk_create``, each hashed on the previous exactly as ``record_event`` does (bulk
    imports). Call inside the transaction that made the changes."""
    if not events:
        return 0
    now = timezone.now()
    with transaction.atomic():
        head = _advance_head(len(events))
        sequence, previous = head.last_sequence - len(events), head.last_hash
        rows = []
        for action, target, before, after in events:
            sequence += 1
            row = _chained_event(
                sequence=sequence,
                previous_hash=previous,
                now=now,
                actor=actor,
                action=action,
                target=target,
                object_type="",
                object_id="",
                before=before,
                after=after,
                reason=reason,
            )
            rows.append(row)
            previous = row.hash
        AuditEvent.objects.bulk_create(rows, batch_size=1000)
        AuditChainHead.objects.filter(pk=1).update(last_hash=previous)
    return len(rows)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    bad_sequence: int | None = None
    bad_id: int | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"Audit chain intact: {self.checked} events verified."
        where = (
            f"AuditEvent id={self.bad_id} (sequence {self.bad_sequence})"
            if self.bad_id is not None
            else f"sequence {self.bad_sequence}"
        )
        return f"Audit chain BROKEN at {where}: {self.problem}"


def verify_audit_chain(chunk_size: int = 5000) -> ChainReport:
    """Walk the whole chain in sequence order and report the first inconsistency."""
    previous_hash = ""
    expected_sequence = 1
    checked = 0
    rows = AuditEvent.objects.order_by("sequence").values_list(
        "id", "previous_hash", "hash", "payload", *MIRRORED_FIELDS
    )
    for row in rows.iterator(chunk_size=chunk_size):
        event_id, stored_previous, stored_hash, payload = row[:4]
        columns = dict(zip(MIRRORED_FIELDS, row[4:], strict=True))
        sequence = columns["sequence"]

        def broken(problem, event_id=event_id, sequence=sequence, checked=checked):
            return ChainReport(False, checked, sequence, event_id, problem)

        if sequence != expected_sequence:
            return broken(
                f"expected sequence {expected_sequence}; the event(s) before it were "
                "deleted or reordered"
            )
        if stored_previous != previous_hash:
            return broken("previous-hash link does not match the preceding event")
        if not hmac.compare_digest(chain_hash(previous_hash, payload), stored_hash):
            return broken("payload was modified (hash mismatch)")
        try:
            data = json.loads(payload)
        except ValueError:
            return broken("payload is not valid JSON")
        for field, value in columns.items():
            if str(data.get(field)) != str(value):
                return broken(f"column {field!r} differs from the signed payload")
        previous_hash = stored_hash
        expected_sequence += 1
        checked += 1

    head = AuditChainHead.objects.filter(pk=1).first()
    head_sequence = head.last_sequence if head else 0
    if head_sequence != checked or (head and head.last_hash != previous_hash):
        return ChainReport(
            False,
            checked,
            bad_sequence=checked + 1,
            problem=f"the chain head records {head_sequence} events but {checked} remain; "
            "the newest events were deleted",
        )
    return ChainReport(True, checked)


def event_verifies(event, previous_hash: str) -> str:
    """ "" when ``event`` checks out on its own (hash over its stored payload, link to the
    preceding event's hash ``previous_hash``, mirrored columns), else what is wrong."""
    if event.previous_hash != previous_hash:
        return "previous-hash link does not match the preceding event"
    if not hmac.compare_digest(chain_hash(event.previous_hash, event.payload), event.hash):
        return "payload was modified (hash mismatch)"
    try:
        data = json.loads(event.payload)
    except ValueError:
        return "payload is not valid JSON"
    for field in MIRRORED_FIELDS:
        if str(data.get(field)) != str(getattr(event, field)):
            return f"column {field!r} differs from the signed payload"
    return ""


def pretty_payload(event) -> str:
    """The stored canonical payload, indented for reading (the stored text is what is hashed)."""
    try:
        return json.dumps(json.loads(event.payload), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return event.payload
