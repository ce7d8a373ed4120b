"""Each default regime's deadline, on both sides of its conditions, across the end of summer
time in Europe/Amsterdam (25 October 2026, 03:00 CEST → 02:00 CET) and a month end.

Sources of the periods: EU AI Act, Regulation (EU) 2024/1689, Art. 73(2) 15 days, 73(3)
2 days, 73(4) 10 days after becoming aware; GDPR, Regulation (EU) 2016/679, Art. 33(1)
72 hours after becoming aware; DORA, Regulation (EU) 2022/2554 Art. 19(4) with Delegated
Regulation (EU) 2025/301 Art. 5: initial within 4 hours of classification and 24 hours of
awareness, intermediate within 72 hours of the initial, final within 1 month of the latest
intermediate."""

import datetime

import pytest
import time_machine

from governance.incidents.models import IncidentReport
from governance.incidents.regimes import IncidentFacts, add_months, conditions_hold, limit_end
from tests.governance.incidents.helpers import (
    AMSTERDAM,
    at,
    financial,
    high_risk_provider,
    report,
    triaged,
)


@pytest.fixture(autouse=True)
def amsterdam(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"


HOURS = datetime.timedelta(hours=1).__mul__


def in_utc(moment):
    return moment.astimezone(datetime.UTC)


def due(incident, code, kind="initial"):
    return IncidentReport.objects.get(incident=incident, regime__code=code, kind=kind).due_at


def local(moment):
    return moment.astimezone(AMSTERDAM)


# --- Pure functions -------------------------------------------------------------------------


def test_hours_are_elapsed_time_and_days_are_calendar_days_across_the_dst_change():
    start = at(2026, 10, 24, 12, 0)  # CEST, UTC+2
    assert local(limit_end(start, {"hours": 72}, AMSTERDAM)) == at(2026, 10, 27, 11, 0)
    assert local(limit_end(start, {"days": 3}, AMSTERDAM)) == at(2026, 10, 27, 12, 0)
    # 3 calendar days that contain the 25-hour day are 73 hours long.
    elapsed = in_utc(limit_end(start, {"days": 3}, AMSTERDAM)) - in_utc(start)
    assert elapsed == datetime.timedelta(hours=73)


def test_a_month_from_a_month_end_is_the_last_day_of_the_next_month():
    assert add_months(datetime.datetime(2027, 1, 31, 9, 0), 1) == datetime.datetime(2027, 2, 28, 9)
    assert add_months(datetime.datetime(2026, 10, 31, 9, 0), 1) == datetime.datetime(
        2026, 11, 30, 9
    )
    assert add_months(datetime.datetime(2026, 12, 15, 9, 0), 1) == datetime.datetime(2027, 1, 15, 9)


def test_conditions_over_facts():
    facts = IncidentFacts(
        category="serious_rights",
        severity="sev2",
        risk_tier=3,
        jurisdiction=frozenset({"EU"}),
        eu_ai_act_role=frozenset({"provider"}),
    )
    assert conditions_hold({"category": ["serious_rights"], "min_risk_tier": 3}, facts)
    assert not conditions_hold({"min_risk_tier": 4}, facts)
    assert not conditions_hold({"jurisdiction": ["US"]}, facts)
    assert conditions_hold({"jurisdiction": ["eu"]}, facts)
    assert not conditions_hold({"personal_data": True}, facts)
    assert conditions_hold({"any": [{"widespread": True}, {"severity": ["sev2"]}]}, facts)
    with pytest.raises(ValueError):
        conditions_hold({"colour": ["red"]}, facts)


# --- EU AI Act Art. 73 ----------------------------------------------------------------------


def test_art_73_fifteen_days_across_the_dst_change(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 10, 21, 9, 0), tick=False):
        incident = triaged(
            coe_admin, [initiative], category="serious_rights", became_aware_at=at(2026, 10, 20, 12)
        )
    assert local(due(incident, "eu-ai-act-art-73")) == at(2026, 11, 4, 12, 0)
    assert "Art. 73(2)" in IncidentReport.objects.get(incident=incident).basis


def test_art_73_ten_days_where_a_death_may_be_linked(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 10, 21, 9, 0), tick=False):
        incident = triaged(
            coe_admin,
            [initiative],
            category="serious_health",
            death_suspected=True,
            became_aware_at=at(2026, 10, 20, 12),
        )
    assert local(due(incident, "eu-ai-act-art-73")) == at(2026, 10, 30, 12, 0)


def test_art_73_two_days_for_critical_infrastructure_or_widespread(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 10, 24, 13, 0), tick=False):
        infrastructure = triaged(
            coe_admin,
            [initiative],
            category="serious_infrastructure",
            became_aware_at=at(2026, 10, 24, 12),
        )
        widespread = triaged(
            coe_admin,
            [initiative],
            category="serious_rights",
            widespread_infringement=True,
            became_aware_at=at(2026, 10, 24, 12),
        )
    # Two calendar days across the night the clocks go back: same wall-clock time, 49 hours.
    assert local(due(infrastructure, "eu-ai-act-art-73")) == at(2026, 10, 26, 12, 0)
    assert local(due(widespread, "eu-ai-act-art-73")) == at(2026, 10, 26, 12, 0)


def test_art_73_does_not_apply_outside_its_conditions(unit_a, coe_admin):
    provider = high_risk_provider(unit_a, coe_admin)
    deployer = high_risk_provider(unit_a, coe_admin)
    deployer.eu_ai_act_role = "deployer"
    deployer.save()
    us_only = high_risk_provider(unit_a, coe_admin)
    us_only.jurisdictions = "US"
    us_only.save()
    not_serious = triaged(coe_admin, [provider], category="performance", severity="sev1")
    as_deployer = triaged(coe_admin, [deployer], category="serious_rights")
    outside_eu = triaged(coe_admin, [us_only], category="serious_rights")
    for incident in (not_serious, as_deployer, outside_eu):
        assert not incident.reports.filter(regime__code="eu-ai-act-art-73").exists()


def test_art_73_needs_a_high_risk_tier(unit_a, coe_admin):
    from tests.governance.helpers import LOW_RISK, assessed

    minimal = assessed(unit_a, coe_admin, LOW_RISK, eu_ai_act_role="provider", jurisdictions="EU")
    incident = triaged(coe_admin, [minimal], category="serious_rights")
    assert not incident.reports.filter(regime__code="eu-ai-act-art-73").exists()


# --- GDPR Art. 33 ---------------------------------------------------------------------------


def test_gdpr_72_hours_across_the_dst_change(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 10, 24, 13, 0), tick=False):
        breach = triaged(
            coe_admin,
            [initiative],
            category="privacy",
            personal_data_breach=True,
            became_aware_at=at(2026, 10, 24, 12),
        )
        no_breach = triaged(
            coe_admin, [initiative], category="privacy", became_aware_at=at(2026, 10, 24, 12)
        )
    # 72 elapsed hours: the wall clock shows one hour earlier after summer time ends.
    assert local(due(breach, "gdpr-art-33")) == at(2026, 10, 27, 11, 0)
    assert not no_breach.reports.filter(regime__code="gdpr-art-33").exists()


# --- DORA -----------------------------------------------------------------------------------


def test_dora_initial_four_hours_from_classification_capped_at_24_from_awareness(unit_a, coe_admin):
    financial(unit_a)
    initiative = high_risk_provider(unit_a, coe_admin)
    # Classified soon after awareness: 4 hours from triage.
    with time_machine.travel(at(2026, 10, 25, 1, 30), tick=False):
        soon = triaged(
            coe_admin, [initiative], severity="sev1", became_aware_at=at(2026, 10, 25, 0, 0)
        )
    # 01:30 CEST is 23:30 UTC; 4 elapsed hours later it is 03:30 UTC, 04:30 CET: the clocks
    # went back at 03:00 CEST, so the wall clock shows only three hours more.
    assert due(soon, "dora-major-ict") == in_utc(at(2026, 10, 25, 1, 30)) + HOURS(4)
    assert local(due(soon, "dora-major-ict")) == at(2026, 10, 25, 4, 30)
    # Classified late: the 24-hour cap from awareness wins (23:00 CET, 24 elapsed hours).
    with time_machine.travel(at(2026, 10, 25, 22, 0), tick=False):
        late = triaged(
            coe_admin, [initiative], severity="sev2", became_aware_at=at(2026, 10, 25, 0, 0)
        )
    assert due(late, "dora-major-ict") == in_utc(at(2026, 10, 25, 0, 0)) + HOURS(24)
    assert local(due(late, "dora-major-ict")) == at(2026, 10, 25, 23, 0)


def test_dora_needs_a_financial_unit_and_a_major_severity(unit_a, unit_b, coe_admin):
    financial(unit_a)
    banking = high_risk_provider(unit_a, coe_admin)
    insurance = high_risk_provider(unit_b, coe_admin)
    minor = triaged(coe_admin, [banking], severity="sev3")
    other_sector = triaged(coe_admin, [insurance], severity="sev1")
    assert not minor.reports.filter(regime__code="dora-major-ict").exists()
    assert not other_sector.reports.filter(regime__code="dora-major-ict").exists()
    # A financial unit named as affected brings DORA in.
    affected = triaged(coe_admin, [insurance], severity="sev1", business_units=[unit_a])
    assert affected.reports.filter(regime__code="dora-major-ict").count() == 3


def test_dora_intermediate_and_final_run_from_the_previous_report_over_a_month_end(
    unit_a, coe_admin
):
    from governance.incidents import services

    financial(unit_a)
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 10, 27, 10, 0), tick=False):
        incident = triaged(
            coe_admin, [initiative], severity="sev1", became_aware_at=at(2026, 10, 27, 9, 0)
        )
    assert local(due(incident, "dora-major-ict", "intermediate")) == at(2026, 10, 30, 14, 0)
    assert local(due(incident, "dora-major-ict", "final")) == at(2026, 11, 30, 14, 0)
    intermediate = IncidentReport.objects.get(incident=incident, kind="intermediate")
    initial = IncidentReport.objects.get(incident=incident, kind="initial")
    with time_machine.travel(at(2026, 10, 27, 12, 0), tick=False):
        services.incident_report_record(actor=coe_admin, report=initial, reference="DNB-1")
    with time_machine.travel(at(2026, 10, 31, 9, 0), tick=False):
        services.incident_report_record(actor=coe_admin, report=intermediate)
    # The final report is due a month after the intermediate one was sent (31 Oct → 30 Nov).
    assert local(due(incident, "dora-major-ict", "final")) == at(2026, 11, 30, 9, 0)


# --- Stored deadlines ------------------------------------------------------------------------


def test_editing_a_regime_keeps_past_deadlines_until_an_explicit_retriage(unit_a, coe_admin):
    from governance.incidents import services
    from governance.incidents.models import ReportingRegime

    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 10, 21, 9, 0), tick=False):
        incident = triaged(
            coe_admin, [initiative], category="serious_rights", became_aware_at=at(2026, 10, 20, 12)
        )
    before = due(incident, "eu-ai-act-art-73")
    regime = ReportingRegime.objects.get(code="eu-ai-act-art-73")
    deadlines = regime.deadlines
    deadlines[0]["rules"][-1]["limits"] = [{"from": "became_aware", "days": 5}]
    services.regime_update(actor=coe_admin, regime=regime, data={"deadlines": deadlines})
    assert due(incident, "eu-ai-act-art-73") == before
    incident = services.incident_transition(actor=coe_admin, incident=incident, to_status="closed")
    incident = services.incident_transition(
        actor=coe_admin, incident=incident, to_status="reopened", reason="New facts came to light."
    )
    services.incident_transition(actor=coe_admin, incident=incident, to_status="triaged")
    assert local(due(incident, "eu-ai-act-art-73")) == at(2026, 10, 25, 12, 0)


def test_a_malformed_regime_is_refused_with_a_field_error(coe_admin):
    from django.core.exceptions import ValidationError

    from governance.incidents import services
    from governance.incidents.models import ReportingRegime

    regime = ReportingRegime.objects.get(code="gdpr-art-33")
    with pytest.raises(ValidationError) as error:
        services.regime_update(
            actor=coe_admin, regime=regime, data={"conditions": {"colour": ["red"]}}
        )
    assert "conditions" in error.value.message_dict
    regime.refresh_from_db()
    assert regime.conditions == {"personal_data": True}


def test_a_reported_incident_has_a_reference_and_no_reports_until_triage(unit_a, coe_admin):
    incident = report(coe_admin, [high_risk_provider(unit_a, coe_admin)])
    assert incident.reference.startswith("INC-")
    assert incident.status == "reported"
    assert not incident.reports.exists()


# --- Boundaries -----------------------------------------------------------------------------


def test_art_73_the_shortest_period_wins_when_several_apply(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 10, 21, 9, 0), tick=False):
        death_and_widespread = triaged(
            coe_admin,
            [initiative],
            category="serious_health",
            death_suspected=True,
            widespread_infringement=True,
            became_aware_at=at(2026, 10, 20, 12),
        )
        death_in_infrastructure = triaged(
            coe_admin,
            [initiative],
            category="serious_infrastructure",
            death_suspected=True,
            became_aware_at=at(2026, 10, 20, 12),
        )
        no_death = triaged(
            coe_admin,
            [initiative],
            category="serious_health",
            death_suspected=False,
            became_aware_at=at(2026, 10, 20, 12),
        )
    assert local(due(death_and_widespread, "eu-ai-act-art-73")) == at(2026, 10, 22, 12, 0)
    assert local(due(death_in_infrastructure, "eu-ai-act-art-73")) == at(2026, 10, 22, 12, 0)
    # The other side of the death condition: the general 15 days.
    assert local(due(no_death, "eu-ai-act-art-73")) == at(2026, 11, 4, 12, 0)


def test_art_73_periods_over_a_month_end_and_a_year_end(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 12, 21, 9, 0), tick=False):
        year_end = triaged(
            coe_admin, [initiative], category="serious_rights", became_aware_at=at(2026, 12, 20, 18)
        )
    assert local(due(year_end, "eu-ai-act-art-73")) == at(2027, 1, 4, 18, 0)
    with time_machine.travel(at(2027, 2, 26, 9, 0), tick=False):
        february = triaged(
            coe_admin,
            [initiative],
            category="serious_health",
            death_suspected=True,
            became_aware_at=at(2027, 2, 25, 9),
        )
    # 2027 is not a leap year: ten days from 25 February is 7 March.
    assert local(due(february, "eu-ai-act-art-73")) == at(2027, 3, 7, 9, 0)


def test_gdpr_72_hours_across_the_start_of_summer_time(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2027, 3, 27, 13, 0), tick=False):
        breach = triaged(
            coe_admin,
            [initiative],
            category="privacy",
            personal_data_breach=True,
            became_aware_at=at(2027, 3, 27, 12),
        )
    # 28 March 2027 02:00 CET → 03:00 CEST: 72 elapsed hours show one hour later.
    assert local(due(breach, "gdpr-art-33")) == at(2027, 3, 30, 13, 0)
    assert in_utc(due(breach, "gdpr-art-33")) - in_utc(at(2027, 3, 27, 12)) == HOURS(72)


def test_days_ending_in_a_repeated_or_skipped_hour_are_counted_in_elapsed_days():
    # Ends at 02:30 on 25 Oct 2026, which happens twice: the first (CEST) one, 48 hours.
    start = at(2026, 10, 23, 2, 30)
    end = limit_end(start, {"days": 2}, AMSTERDAM)
    assert in_utc(end) - in_utc(start) == HOURS(48)
    # Ends at 02:30 on 28 Mar 2027, which does not exist: 03:30 CEST, also 48 hours.
    start = at(2027, 3, 26, 2, 30)
    end = limit_end(start, {"days": 2}, AMSTERDAM)
    assert in_utc(end) - in_utc(start) == HOURS(48)
    assert local(end).hour == 3


def test_a_clock_start_given_in_another_zone_counts_days_on_the_organisations_calendar(
    unit_a, coe_admin
):
    initiative = high_risk_provider(unit_a, coe_admin)
    # 23:30 UTC on 24 October is 01:30 CEST on 25 October in Amsterdam.
    aware = datetime.datetime(2026, 10, 24, 23, 30, tzinfo=datetime.UTC)
    with time_machine.travel(aware + HOURS(1), tick=False):
        incident = triaged(
            coe_admin,
            [initiative],
            category="serious_infrastructure",
            personal_data_breach=True,
            became_aware_at=aware,
        )
    # Two calendar days in Amsterdam (27 Oct 01:30, now CET); 72 elapsed hours for GDPR.
    assert local(due(incident, "eu-ai-act-art-73")) == at(2026, 10, 27, 1, 30)
    assert due(incident, "gdpr-art-33") == aware + HOURS(72)


def test_a_time_without_its_zone_is_refused_and_nothing_is_written(unit_a, coe_admin):
    from django.core.exceptions import ValidationError

    from governance.incidents.models import Incident

    initiative = high_risk_provider(unit_a, coe_admin)
    with pytest.raises(ValidationError) as error:
        report(
            coe_admin,
            [initiative],
            detected_at=at(2026, 10, 20, 11),
            became_aware_at=datetime.datetime(2026, 10, 20, 12, 0),
        )
    assert set(error.value.message_dict) == {"became_aware_at"}
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("submitted_after", "state"),
    [(None, "submitted"), (datetime.timedelta(microseconds=1), "submitted_late")],
)
def test_a_report_sent_at_its_due_time_is_on_time_and_a_moment_later_is_late(
    submitted_after, state
):
    due_at = at(2026, 10, 27, 11, 0)
    sent = IncidentReport(due_at=due_at, submitted_at=due_at + (submitted_after or HOURS(0)))
    assert sent.state() == state


def test_an_unsent_report_is_due_up_to_its_due_time_and_missed_after():
    due_at = at(2026, 10, 27, 11, 0)
    unsent = IncidentReport(due_at=due_at)
    assert unsent.state(now=due_at) == "due"
    assert unsent.state(now=due_at + datetime.timedelta(microseconds=1)) == "missed"
