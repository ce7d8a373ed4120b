"""Allocations start and end at instants (issue 17, item 9): starts_at/ends_at are the truth,
starts_on/ends_on their derived UTC days, and GPU-hours follow the exact time held."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import QueryDict
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEvent
from core.periods import (
    allocated_gpu_hours,
    dates_from_period,
    format_period_bound,
    held_gpu_hours,
    parse_period_bound,
    period_from_dates,
)
from inventory.finops.choices import IdleSharePolicy
from inventory.finops.models import ChargebackLine
from inventory.finops.services.chargeback import chargeback_compute
from inventory.gpu import services
from inventory.gpu.allocation_import import allocation_import
from inventory.gpu.choices import AllocationPurpose, SharingMode
from inventory.gpu.exports import allocation_export_rows
from inventory.gpu.forms import GPUAllocationForm
from inventory.gpu.models import GPUAllocation
from tests.factories import GPUAllocationFactory, GPUPoolFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
JUNE = dt.date(2025, 6, 1)
ALLOCATIONS = "/api/v1/gpu-allocations/"


@pytest.fixture
def api():
    return APIClient()


def at(day, hour=0, minute=0):
    return dt.datetime(2025, 6, day, hour, minute, tzinfo=UTC)


def pod_data(pool, unit, **extra):
    """2.5 GPUs from 09:00 to 13:30 UTC on 2 June 2025: a pod, not a day."""
    return {
        "pool": pool,
        "gpu_count": Decimal("2.5"),
        "business_unit": unit,
        "purpose": AllocationPurpose.INFERENCE,
        "starts_at": at(2, 9),
        "ends_at": at(2, 13, 30),
        **extra,
    }


# --- The converting helpers (what migration 0010 fills the rows with) -----------------------


def test_whole_days_become_instants_and_back():
    # The inclusive end day becomes the exclusive start of the next day.
    assert period_from_dates(JUNE, dt.date(2025, 6, 30)) == (
        at(1),
        dt.datetime(2025, 7, 1, tzinfo=UTC),
    )
    assert period_from_dates(dt.date(2024, 12, 31), None) == (
        dt.datetime(2024, 12, 31, tzinfo=UTC),
        None,
    )
    # One day: [00:00, next 00:00).
    assert period_from_dates(JUNE, JUNE) == (at(1), at(2))
    for starts_on, ends_on in [(JUNE, JUNE), (JUNE, dt.date(2025, 6, 30)), (JUNE, None)]:
        assert dates_from_period(*period_from_dates(starts_on, ends_on)) == (starts_on, ends_on)


def test_an_instant_within_a_day_dates_that_day_and_an_end_dates_its_last_instant():
    assert dates_from_period(at(2, 9), at(2, 13, 30)) == (dt.date(2025, 6, 2), dt.date(2025, 6, 2))
    # Ending at 00:00 means the GPUs were last held the day before.
    assert dates_from_period(at(2, 9), at(3)) == (dt.date(2025, 6, 2), dt.date(2025, 6, 2))
    # An offset is converted to UTC days.
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert dates_from_period(dt.datetime(2025, 6, 2, 1, tzinfo=plus_two), None) == (
        dt.date(2025, 6, 1),
        None,
    )


def test_bounds_parse_from_a_date_or_an_iso_datetime_and_format_back():
    assert parse_period_bound("2025-06-02", end=False) == at(2)
    assert parse_period_bound("2025-06-02", end=True) == at(3)
    assert parse_period_bound("2025-06-02T09:00", end=False) == at(2, 9)
    assert parse_period_bound("2025-06-02T15:30+02:00", end=True) == at(2, 13, 30)
    with pytest.raises(ValueError):
        parse_period_bound("2 June", end=False)
    assert format_period_bound(at(3), end=True) == "2025-06-02"
    assert format_period_bound(at(2), end=False) == "2025-06-02"
    assert format_period_bound(at(2, 13, 30), end=True) == "2025-06-02T13:30"
    assert format_period_bound(None, end=True) == ""


# --- GPU-hours -----------------------------------------------------------------------------


def test_a_pod_length_allocation_holds_exactly_its_hours():
    # 2.5 GPUs × 4.5 h
    hours = held_gpu_hours(Decimal("2.5"), at(2, 9), at(2, 13, 30), JUNE, dt.date(2025, 6, 30))
    assert hours == Decimal("11.250")
    # Clipped to the period: only the part of a day-spanning hold inside it counts.
    assert held_gpu_hours(Decimal("1"), at(1, 22), at(2, 2), JUNE, JUNE) == Decimal("2.000")
    # Exact to 0.001 GPU-hour: 0.001 GPU for 1 minute = 0.0000166… → 0.000.
    assert held_gpu_hours(Decimal("0.001"), at(2, 9), at(2, 9, 1), JUNE, JUNE) == 0
    assert held_gpu_hours(Decimal("3"), at(2, 9), at(2, 9, 20), JUNE, JUNE + dt.timedelta(1)) == 1
    assert held_gpu_hours(Decimal("1"), at(2, 9), at(2, 10), JUNE, JUNE) == 0


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [
        (JUNE, dt.date(2025, 6, 10)),
        (dt.date(2025, 5, 20), None),
        (dt.date(2025, 6, 5), dt.date(2025, 7, 3)),
    ],
)
def test_whole_day_allocations_give_the_same_hours_as_before(starts_on, ends_on):
    first, last = JUNE, dt.date(2025, 6, 30)
    before = allocated_gpu_hours(Decimal("2.5"), starts_on, ends_on, first, last)
    after = held_gpu_hours(Decimal("2.5"), *period_from_dates(starts_on, ends_on), first, last)
    assert (after, str(after)) == (before, str(before))


def test_chargeback_charges_a_pod_length_allocation_its_exact_hours(platform_engineer, unit_a):
    pool = GPUPoolFactory(hourly_rate=Decimal("2.00"), gpu_count=8)
    pod = services.allocation_create(actor=platform_engineer, data=pod_data(pool, unit_a))
    day = GPUAllocationFactory(
        pool=pool, business_unit=unit_a, gpu_count=Decimal("2.5"), starts_on=JUNE, ends_on=JUNE
    )
    chargeback = chargeback_compute(month=JUNE, policy=IdleSharePolicy.SEPARATE)
    lines = {
        line.allocation_id: line
        for line in chargeback.lines.filter(source=ChargebackLine.Source.RATE)
    }
    assert (lines[pod.pk].gpu_hours, lines[pod.pk].amount) == (Decimal("11.25"), Decimal("22.50"))
    # A whole-day allocation: 2.5 × 24 h, as before.
    assert (lines[day.pk].gpu_hours, lines[day.pk].amount) == (Decimal("60"), Decimal("120.00"))


# --- The model keeps the two sides together ------------------------------------------------


def test_an_allocation_made_with_instants_derives_its_dates(platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=8)
    allocation = services.allocation_create(actor=platform_engineer, data=pod_data(pool, unit_a))
    allocation.refresh_from_db()
    assert (allocation.starts_on, allocation.ends_on) == (dt.date(2025, 6, 2), dt.date(2025, 6, 2))
    assert (allocation.starts_at, allocation.ends_at) == (at(2, 9), at(2, 13, 30))
    after = json.loads(AuditEvent.objects.get(action="gpu_allocation.created").payload)["after"]
    assert (after["starts_at"], after["ends_on"]) == ("2025-06-02T09:00:00Z", "2025-06-02")


def test_an_allocation_made_with_dates_holds_whole_days(unit_a):
    allocation = GPUAllocationFactory(business_unit=unit_a, starts_on=JUNE, ends_on=JUNE)
    assert (allocation.starts_at, allocation.ends_at) == (at(1), at(2))


def test_changing_a_date_moves_the_instant_and_changing_an_instant_moves_the_date(
    platform_engineer, unit_a
):
    pool = GPUPoolFactory(gpu_count=8)
    allocation = services.allocation_create(actor=platform_engineer, data=pod_data(pool, unit_a))
    updated = services.allocation_update(
        actor=platform_engineer, allocation=allocation, data={"ends_on": dt.date(2025, 6, 4)}
    )
    assert (updated.starts_at, updated.ends_at, updated.ends_on) == (
        at(2, 9),
        at(5),
        dt.date(2025, 6, 4),
    )
    event = json.loads(AuditEvent.objects.get(action="gpu_allocation.updated").payload)
    assert set(event["after"]) == {"ends_at", "ends_on"}
    updated = services.allocation_update(
        actor=platform_engineer, allocation=updated, data={"starts_at": at(3, 6)}
    )
    assert (updated.starts_on, updated.ends_on) == (dt.date(2025, 6, 3), dt.date(2025, 6, 4))
    updated = services.allocation_update(
        actor=platform_engineer, allocation=updated, data={"ends_on": None}
    )
    assert (updated.ends_at, updated.ends_on) == (None, None)


def test_bulk_create_and_update_keep_the_instants_and_dates_together(unit_a):
    pool = GPUPoolFactory(gpu_count=8)
    common = {"pool": pool, "business_unit": unit_a, "purpose": AllocationPurpose.TRAINING}
    first, second = GPUAllocation.objects.bulk_create(
        [
            GPUAllocation(gpu_count=1, starts_on=JUNE, ends_on=dt.date(2025, 6, 3), **common),
            GPUAllocation(gpu_count=1, starts_at=at(2, 9), ends_at=at(2, 10), **common),
        ]
    )
    rows = GPUAllocation.objects.order_by("pk")
    assert list(rows.values_list("starts_at", "ends_at", "starts_on", "ends_on")) == [
        (at(1), at(4), JUNE, dt.date(2025, 6, 3)),
        (at(2, 9), at(2, 10), dt.date(2025, 6, 2), dt.date(2025, 6, 2)),
    ]
    GPUAllocation.objects.filter(pk=first.pk).update(ends_on=dt.date(2025, 6, 9))
    GPUAllocation.objects.filter(pk=second.pk).update(ends_at=at(3, 1))
    assert list(rows.values_list("ends_at", "ends_on")) == [
        (at(10), dt.date(2025, 6, 9)),
        (at(3, 1), dt.date(2025, 6, 3)),
    ]


# --- The end must come after the start -----------------------------------------------------


@pytest.mark.parametrize("ends_at", [at(2, 9), at(2, 8)])
def test_an_end_at_or_before_the_start_is_a_field_error(platform_engineer, unit_a, ends_at):
    pool = GPUPoolFactory(gpu_count=8)
    with pytest.raises(ValidationError) as refused:
        services.allocation_create(
            actor=platform_engineer, data=pod_data(pool, unit_a, ends_at=ends_at)
        )
    assert set(refused.value.message_dict) == {"ends_on"}
    assert not GPUAllocation.objects.exists()


def test_the_database_refuses_an_end_at_or_before_the_start(unit_a):
    allocation = GPUAllocationFactory(business_unit=unit_a, starts_on=JUNE)
    with pytest.raises(IntegrityError), transaction.atomic():
        # The dates stay valid (same day); only the instants are wrong.
        GPUAllocation.objects.filter(pk=allocation.pk).update(
            starts_at=at(1, 10), ends_at=at(1, 10), starts_on=JUNE, ends_on=JUNE
        )


# --- Forms, API, import, pages -------------------------------------------------------------


def form_data(pool, unit, **extra):
    return {
        "pool": pool.pk,
        "gpu_count": "2.5",
        "business_unit": unit.pk,
        "purpose": AllocationPurpose.INFERENCE,
        **extra,
    }


def test_the_form_takes_dates_or_dates_with_times(platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=8, sharing_mode=SharingMode.TIME_SLICED)
    form = GPUAllocationForm(
        form_data(
            pool,
            unit_a,
            starts_on="2025-06-02",
            starts_time="09:00",
            ends_on="2025-06-02",
            ends_time="13:30",
        ),
        user=platform_engineer,
    )
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["starts_at"], form.cleaned_data["ends_at"]) == (
        at(2, 9),
        at(2, 13, 30),
    )
    form = GPUAllocationForm(
        form_data(pool, unit_a, starts_on="2025-06-02", ends_on="2025-06-02"),
        user=platform_engineer,
    )
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["starts_at"], form.cleaned_data["ends_at"]) == (at(2), at(3))
    # A script may post a full ISO 8601 date-time.
    form = GPUAllocationForm(
        form_data(pool, unit_a, starts_on="2025-06-02T09:00:00+00:00"), user=platform_engineer
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["starts_at"] == at(2, 9)
    form = GPUAllocationForm(
        form_data(
            pool,
            unit_a,
            starts_on="2025-06-02",
            starts_time="10:00",
            ends_on="2025-06-02",
            ends_time="10:00",
        ),
        user=platform_engineer,
    )
    assert not form.is_valid()
    assert list(form.errors) == ["ends_on"]
    form = GPUAllocationForm(
        form_data(pool, unit_a, starts_on="2025-06-02", ends_time="10:00"), user=platform_engineer
    )
    assert list(form.errors) == ["ends_time"]


def test_the_edit_form_shows_the_times_of_a_pod_and_dates_alone_for_whole_days(
    client, platform_engineer, unit_a
):
    pool = GPUPoolFactory(gpu_count=8)
    pod = services.allocation_create(actor=platform_engineer, data=pod_data(pool, unit_a))
    client.force_login(platform_engineer)
    page = client.get(reverse("inventory:allocation_update", args=[pod.pk])).content.decode()
    assert 'type="date" name="starts_on" value="2025-06-02"' in page
    assert 'name="starts_time" value="09:00"' in page
    assert 'name="ends_time" value="13:30"' in page
    day = GPUAllocationFactory(pool=pool, business_unit=unit_a, starts_on=JUNE, ends_on=JUNE)
    page = client.get(reverse("inventory:allocation_update", args=[day.pk])).content.decode()
    assert 'type="date" name="ends_on" value="2025-06-01"' in page
    assert 'name="ends_time" value=' not in page


def test_the_form_saves_a_pod_through_the_service(client, platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=8)
    client.force_login(platform_engineer)
    response = client.post(
        reverse("inventory:allocation_create"),
        form_data(
            pool,
            unit_a,
            starts_on="2025-06-02",
            starts_time="09:00",
            ends_on="2025-06-02",
            ends_time="13:30",
        ),
    )
    assert response.status_code == 302
    allocation = GPUAllocation.objects.get()
    assert (allocation.starts_at, allocation.ends_at) == (at(2, 9), at(2, 13, 30))


def test_pages_show_the_time_only_when_it_is_not_midnight():
    template = Template(
        "{% load keel %}{{ start|period_start }} – {{ end|period_end|default:'open-ended' }}"
    )
    assert template.render(Context({"start": at(2, 9), "end": at(2, 13, 30)})) == (
        "2 Jun 2025 09:00 UTC – 2 Jun 2025 13:30 UTC"
    )
    assert template.render(Context({"start": at(1), "end": at(3)})) == "1 Jun 2025 – 2 Jun 2025"
    assert template.render(Context({"start": at(1), "end": None})) == "1 Jun 2025 – open-ended"


def test_the_api_takes_and_returns_instants(api, platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=8)
    api.force_authenticate(platform_engineer)
    body = {
        "pool": pool.pk,
        "gpu_count": "2.500",
        "business_unit": unit_a.pk,
        "purpose": AllocationPurpose.INFERENCE,
        "starts_at": "2025-06-02T09:00:00Z",
        "ends_at": "2025-06-02T13:30:00Z",
    }
    response = api.post(ALLOCATIONS, body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["starts_on"], created["ends_on"]) == ("2025-06-02", "2025-06-02")
    assert (created["starts_at"], created["ends_at"]) == (
        "2025-06-02T09:00:00Z",
        "2025-06-02T13:30:00Z",
    )
    # A date is whole days; the old date fields still work.
    response = api.post(
        ALLOCATIONS, {**body, "starts_at": "2025-06-03", "ends_at": "2025-06-03"}, format="json"
    )
    assert response.json()["ends_at"] == "2025-06-04T00:00:00Z", response.json()
    dates = {k: v for k, v in body.items() if k not in ("starts_at", "ends_at")}
    response = api.post(ALLOCATIONS, {**dates, "starts_on": "2025-06-05"}, format="json")
    assert (response.json()["starts_at"], response.json()["ends_at"]) == (
        "2025-06-05T00:00:00Z",
        None,
    )
    response = api.post(ALLOCATIONS, {**body, "ends_at": "2025-06-02T08:00:00Z"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"ends_on"}
    response = api.post(ALLOCATIONS, dates, format="json")
    assert response.json() == {"starts_on": ["This field is required."]}
    # A client that reads, changes the date and writes everything back moves the instant.
    allocation = GPUAllocation.objects.get(pk=created["id"])
    full = api.get(f"{ALLOCATIONS}{allocation.pk}/").json()
    response = api.put(
        f"{ALLOCATIONS}{allocation.pk}/", {**full, "ends_on": "2025-06-06"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["ends_at"] == "2025-06-07T00:00:00Z"


def test_the_import_takes_dates_or_iso_datetimes(platform_engineer, unit_a):
    GPUPoolFactory(name="pods", gpu_count=8)
    content = (
        "pool,gpu_count,business_unit,purpose,starts_on,ends_on\n"
        f"pods,2.5,{unit_a.code},inference,2025-06-02T09:00:00Z,2025-06-02T13:30:00Z\n"
        f"pods,1,{unit_a.code},training,2025-06-02,2025-06-02\n"
        f"pods,1,{unit_a.code},training,2025-06-02T10:00,2025-06-02T10:00\n"
        f"pods,1,{unit_a.code},training,yesterday,\n"
    ).encode()
    result = allocation_import(actor=platform_engineer, content=content)
    assert [(e.row, e.field) for e in result.errors] == [(4, "ends_on"), (5, "starts_on")]
    result = allocation_import(
        actor=platform_engineer, content=b"\n".join(content.split(b"\n")[:3])
    )
    assert not result.errors
    assert list(
        GPUAllocation.objects.order_by("pk").values_list("starts_at", "ends_at", "ends_on")
    ) == [(at(2, 9), at(2, 13, 30), dt.date(2025, 6, 2)), (at(2), at(3), dt.date(2025, 6, 2))]


def test_list_page_and_api_query_counts_stay_constant(
    client, api, platform_engineer, unit_a, django_assert_max_num_queries
):
    pool = GPUPoolFactory(gpu_count=64)
    client.force_login(platform_engineer)
    api.force_authenticate(platform_engineer)

    def counts():
        with CaptureQueriesContext(connection) as page_queries:
            page = client.get(reverse("inventory:allocation_list")).content.decode()
        with CaptureQueriesContext(connection) as api_queries:
            rows = api.get(ALLOCATIONS).json()["results"]
        return len(page_queries), len(api_queries), page, rows

    def add(hour):
        services.allocation_create(
            actor=platform_engineer,
            data=pod_data(pool, unit_a, starts_at=at(2, hour), ends_at=at(2, hour, 30)),
        )

    add(0)
    one = counts()
    for hour in range(1, 8):
        add(hour)
    eight = counts()
    assert one[:2] == eight[:2]
    assert "2 Jun 2025 07:00 UTC – 2 Jun 2025 07:30 UTC" in eight[2]
    assert len(eight[3]) == 8
    with django_assert_max_num_queries(one[0]):
        client.get(reverse("inventory:allocation_list"))
    with django_assert_max_num_queries(one[1]):
        api.get(ALLOCATIONS)


def test_the_export_keeps_dates_for_whole_days_and_times_for_pods(platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=8)
    services.allocation_create(actor=platform_engineer, data=pod_data(pool, unit_a))
    GPUAllocationFactory(pool=pool, business_unit=unit_a, starts_on=JUNE, ends_on=JUNE)
    header, *rows = allocation_export_rows(user=platform_engineer, params=QueryDict())
    starts, ends = header.index("Starts on"), header.index("Ends on")
    assert {(row[starts], row[ends]) for row in rows} == {
        ("2025-06-02T09:00Z", "2025-06-02T13:30Z"),
        (JUNE, JUNE),
    }
    assert parse_period_bound("2025-06-02T13:30Z", end=True) == at(2, 13, 30)
