"""Builders of incidents for the incident tests."""

import datetime
from zoneinfo import ZoneInfo

from core.choices import Role
from governance.incidents import services
from governance.incidents.models import BusinessUnitSector
from tests.factories import member
from tests.governance.helpers import TIER_3, assessed

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def at(*args) -> datetime.datetime:
    """An Amsterdam wall-clock time (the organisation's time zone in these tests)."""
    return datetime.datetime(*args, tzinfo=AMSTERDAM)


def high_risk_provider(unit, owner, **fields):
    """A Tier 3 initiative whose organisation is the EU AI Act provider, used in the EU."""
    return assessed(
        unit,
        owner,
        TIER_3,
        stage="pilot",
        eu_ai_act_role="provider",
        jurisdictions="EU, UK",
        **fields,
    )


def report(actor, initiatives, **data):
    aware = data.pop("became_aware_at", at(2026, 10, 20, 12, 0))
    defaults = {
        "title": "Credit model declined applicants by postcode",
        "description": "Declines cluster in two postcodes.",
        "category": "bias",
        "severity": "sev3",
        "detected_at": aware - datetime.timedelta(hours=1),
        "became_aware_at": aware,
        "initiatives": initiatives,
    }
    return services.incident_create(actor=actor, data={**defaults, **data})


def triaged(actor, initiatives, **data):
    incident = report(actor, initiatives, **data)
    return services.incident_transition(actor=actor, incident=incident, to_status="triaged")


def risk_officer(unit, username="rita"):
    return member(Role.RISK_OFFICER, unit, username=username)


def financial(unit):
    BusinessUnitSector.objects.update_or_create(
        business_unit=unit, defaults={"sector": "financial"}
    )
