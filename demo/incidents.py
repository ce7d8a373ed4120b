"""Demo incidents: a handful of believable AI incidents of the demo bank, through the incident
services (real audit events, deadlines computed at triage), with the clock moved back
afterwards where the story happened in the past (as ``demo.approvals`` does).

- a serious incident (discriminatory credit decisions, EU AI Act Art. 3(49)(c)) on a high-risk
  pilot, became aware this morning: the DORA initial notification is due today, the Art. 73
  report within 15 days;
- a chatbot that quoted another customer's details: GDPR Art. 33 notified on time, two
  corrective actions done, closed;
- a drifting fraud model under investigation with an open action; a prompt injection
  mitigated; a minor bias report not yet triaged.

Every demo unit is a financial-services unit (DORA Art. 2: credit institutions and insurance
undertakings). Idempotent: does nothing when any incident exists.
"""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from core.models import BusinessUnit
from governance.incidents import services
from governance.incidents.models import BusinessUnitSector, Incident, IncidentReport
from governance.risk.selectors import current_tiers
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative


def _demo_initiatives():
    return Initiative.objects.filter(external_id__startswith="demo-").exclude(
        external_id__startswith="demo-scale-"
    )


def _serious_candidate():
    pilots = list(
        _demo_initiatives()
        .filter(stage=Stage.PILOT, eu_ai_act_role="provider", jurisdictions__contains="EU")
        .order_by("reference")
    )
    tiers = current_tiers([i.pk for i in pilots])
    high = [i for i in pilots if (tiers.get(i.pk) or 0) >= 3]
    return (high or pilots or list(_demo_initiatives().filter(stage=Stage.PILOT)))[0]


def _pick(stage, *conditions, **filters):
    return (
        _demo_initiatives()
        .filter(*conditions, stage=stage, **filters)
        .order_by("reference")
        .first()
    )


def _move_back(incident: Incident, **moments) -> None:
    Incident.objects.filter(pk=incident.pk).update(**moments)


def seed_demo_incidents(today: date) -> dict:
    if Incident.objects.exists():
        return {}
    users = get_user_model().objects.in_bulk(
        ("risk", "reviewer", "member", "lead"), field_name="username"
    )
    if len(users) < 4:
        return {}
    for unit in BusinessUnit.objects.all():
        BusinessUnitSector.objects.get_or_create(
            business_unit=unit, defaults={"sector": "financial"}
        )
    risk, reviewer, member = users["risk"], users["reviewer"], users["member"]
    now = timezone.now()
    created = 0

    # 1. Serious, reported this morning: reports due.
    credit = _serious_candidate()
    serious = services.incident_create(
        actor=reviewer,
        data={
            "title": "Credit pre-screening declined applicants by nationality proxy",
            "description": "Declines for applicants with non-domestic surnames rose from 9 % to "
            "31 % after the March retraining; a feature derived from the name field acted as a "
            "proxy for nationality.",
            "initiatives": [credit],
            "category": "serious_rights",
            "severity": "sev2",
            "detected_at": now - timedelta(hours=9),
            "became_aware_at": now - timedelta(hours=6),
            "causal_link_at": now - timedelta(hours=2),
            "immediate_actions": "Automatic declines switched to human review; feature removed "
            "from the scoring pipeline.",
            "owner": risk,
        },
    )
    services.incident_transition(actor=risk, incident=serious, to_status="triaged")
    services.incident_transition(actor=risk, incident=serious, to_status="investigating")
    services.action_add(
        actor=risk,
        incident=serious,
        data={
            "title": "Re-decide every declined application since March",
            "owner": member,
            "due_on": today + timedelta(days=14),
        },
    )
    created += 1

    # 2. Closed, with actions done and the GDPR notification sent on time.
    # Reported by the demo's Retail member, so one of Retail's initiatives.
    retail = {"business_unit__code": "RETAIL"}
    chatbot = _pick(Stage.PRODUCTION, ai_type__in=["generative", "agentic"], **retail) or _pick(
        Stage.PRODUCTION, **retail
    )
    aware = now - timedelta(days=40)
    leak = services.incident_create(
        actor=member,
        data={
            "title": "Assistant quoted another customer's address",
            "description": "A retrieval index mixed two customers' conversation summaries; one "
            "customer was shown the other's postal address.",
            "initiatives": [chatbot],
            "category": "privacy",
            "severity": "sev3",
            "personal_data_breach": True,
            "detected_at": aware - timedelta(hours=3),
            "became_aware_at": aware,
            "causal_link_at": aware + timedelta(hours=5),
            "immediate_actions": "Summaries removed from the index; affected customer called.",
            "owner": reviewer,
        },
    )
    _move_back(leak, created_at=aware)
    services.incident_transition(actor=reviewer, incident=leak, to_status="triaged")
    for report in IncidentReport.objects.filter(incident=leak):
        services.incident_report_record(
            actor=risk,
            report=report,
            submitted_at=aware + timedelta(hours=30),
            submitted_to="Information Commissioner's Office",
            reference="ICO-2026-04417",
        )
    for title in ("Partition the retrieval index per customer", "Add a leakage test to CI"):
        action = services.action_add(
            actor=reviewer,
            incident=leak,
            data={"title": title, "owner": reviewer, "due_on": today - timedelta(days=20)},
        )
        services.action_complete(actor=reviewer, action=action)
    services.incident_transition(actor=reviewer, incident=leak, to_status="mitigated")
    services.incident_transition(actor=reviewer, incident=leak, to_status="closed")
    _move_back(leak, triaged_at=aware + timedelta(hours=2), closed_at=now - timedelta(days=12))
    created += 1

    # 3-5. Smaller ones.
    fraud = _pick(Stage.PRODUCTION, ~Q(pk=chatbot.pk)) if chatbot else _pick(Stage.PRODUCTION)
    drift = services.incident_create(
        actor=reviewer,
        data={
            "title": "Fraud model recall fell after a card-scheme change",
            "description": "Recall on card-not-present fraud dropped from 0.91 to 0.78 in "
            "two weeks.",
            "initiatives": [fraud or credit],
            "category": "performance",
            "severity": "sev3",
            "detected_at": now - timedelta(days=5),
            "became_aware_at": now - timedelta(days=5),
            "owner": reviewer,
        },
    )
    services.incident_transition(actor=reviewer, incident=drift, to_status="triaged")
    services.incident_transition(actor=reviewer, incident=drift, to_status="investigating")
    services.action_add(
        actor=reviewer,
        incident=drift,
        data={
            "title": "Retrain on the new scheme's fields",
            "owner": reviewer,
            "due_on": today + timedelta(days=10),
        },
    )
    injection = services.incident_create(
        actor=reviewer,
        data={
            "title": "Prompt injection through an uploaded document",
            "description": "A test document made the assistant reveal its system prompt.",
            "initiatives": [chatbot or credit],
            "category": "security",
            "severity": "sev3",
            "detected_at": now - timedelta(days=9),
            "became_aware_at": now - timedelta(days=9),
            "owner": reviewer,
        },
    )
    services.incident_transition(actor=reviewer, incident=injection, to_status="triaged")
    services.incident_transition(actor=reviewer, incident=injection, to_status="mitigated")
    services.incident_create(
        actor=member,
        data={
            "title": "Complaint: marketing model favours younger customers",
            "description": "A customer complaint says savings offers reach under-40s far more.",
            "initiatives": [_pick(Stage.PILOT, ~Q(pk=credit.pk), **retail) or chatbot],
            "category": "bias",
            "severity": "sev4",
            "detected_at": now - timedelta(days=1),
            "became_aware_at": now - timedelta(days=1),
        },
    )
    return {"incidents": created + 3}
