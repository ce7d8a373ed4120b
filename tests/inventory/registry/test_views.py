import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import AuditEvent
from inventory.gpu.choices import AllocationPurpose, PoolKind, PricingModel, Provider
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.registry.choices import ModelType
from inventory.registry.models import AIModel, ModelVersion
from portfolio.initiatives.choices import Stage
from tests.factories import (
    AIModelFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
)
from tests.inventory.helpers import ModelVersionFactory, audit_actions, form_data, today

pytestmark = pytest.mark.django_db

PERSONAS = ["member_a", "member_b", "platform_engineer", "coe_reviewer"]
LIST_NAMES = ["model_list", "pool_list", "allocation_list"]


@pytest.fixture
def estate(unit_a, unit_b):
    """One model and one allocation per unit, an initiative per unit, and a shared pool."""
    initiative_a = InitiativeFactory(business_unit=unit_a, title="Alpha initiative")
    initiative_b = InitiativeFactory(business_unit=unit_b, title="Beta initiative")
    pool = GPUPoolFactory(name="shared-pool", gpu_count=16)
    return {
        "initiative_a": initiative_a,
        "initiative_b": initiative_b,
        "pool": pool,
        "model_a": AIModelFactory(business_unit=unit_a, name="alpha-scorer"),
        "model_b": AIModelFactory(business_unit=unit_b, name="beta-scorer"),
        "allocation_a": GPUAllocationFactory(
            pool=pool, business_unit=unit_a, initiative=initiative_a, gpu_count=Decimal("2")
        ),
        "allocation_b": GPUAllocationFactory(
            pool=pool, business_unit=unit_b, initiative=initiative_b, gpu_count=Decimal("3")
        ),
    }


def url(name, *args):
    return reverse(f"inventory:{name}", args=args)


def login(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    return user


# --- Anonymous ---------------------------------------------------------------------------


def test_anonymous_is_redirected_to_login_everywhere(client, estate):
    model, pool, allocation = estate["model_a"], estate["pool"], estate["allocation_a"]
    urls = [
        *(url(name) for name in LIST_NAMES),
        url("model_detail", model.pk),
        url("model_create"),
        url("model_update", model.pk),
        url("pool_detail", pool.pk),
        url("pool_create"),
        url("pool_update", pool.pk),
        url("allocation_detail", allocation.pk),
        url("allocation_create"),
        url("allocation_update", allocation.pk),
    ]
    for address in urls:
        response = client.get(address)
        assert response.status_code == 302, address
        assert response["Location"].startswith(reverse("login"))
    response = client.post(url("model_version_create", model.pk), {"version": "9"})
    assert response.status_code == 302
    assert not ModelVersion.objects.exists()


# --- Lists -------------------------------------------------------------------------------

LIST_ROWS = {
    # persona: (models seen, allocations seen); every signed-in user sees every pool.
    "member_a": ({"model_a"}, {"allocation_a"}),
    "member_b": ({"model_b"}, {"allocation_b"}),
    "platform_engineer": ({"model_a", "model_b"}, {"allocation_a", "allocation_b"}),
    "coe_reviewer": ({"model_a", "model_b"}, {"allocation_a", "allocation_b"}),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_pages_show_the_rows_in_scope(client, request, estate, persona):
    login(client, request, persona)
    models_seen, allocations_seen = LIST_ROWS[persona]

    response = client.get(url("model_list"))
    assert response.status_code == 200
    assert {row.pk for row in response.context["rows"]} == {estate[k].pk for k in models_seen}
    for key in ("model_a", "model_b"):
        assert (estate[key].name in response.content.decode()) == (key in models_seen)

    response = client.get(url("pool_list"))
    assert response.status_code == 200
    assert [row.pk for row in response.context["rows"]] == [estate["pool"].pk]

    response = client.get(url("allocation_list"))
    assert response.status_code == 200
    assert {row.pk for row in response.context["rows"]} == {estate[k].pk for k in allocations_seen}


def test_model_serving_a_visible_initiative_is_listed(client, member_a, unit_b, estate):
    estate["model_b"].initiatives.add(estate["initiative_a"])
    client.force_login(member_a)
    rows = client.get(url("model_list")).context["rows"]
    assert {row.pk for row in rows} == {estate["model_a"].pk, estate["model_b"].pk}


CREATE_BUTTONS = {
    # persona: (New model, New GPU pool, New allocation)
    "member_a": (True, False, False),
    "member_b": (True, False, False),
    "platform_engineer": (True, True, True),
    "coe_reviewer": (False, False, False),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_new_buttons_only_for_those_who_may_create(client, request, estate, persona):
    login(client, request, persona)
    for list_name, create_name, allowed in zip(
        LIST_NAMES,
        ["model_create", "pool_create", "allocation_create"],
        CREATE_BUTTONS[persona],
        strict=True,
    ):
        page = client.get(url(list_name)).content.decode()
        assert (f'href="{url(create_name)}"' in page) == allowed, list_name


def test_model_list_shows_annotated_counts(client, member_a, unit_a, estate):
    model = estate["model_a"]
    ModelVersionFactory.create_batch(3, model=model)
    model.initiatives.add(estate["initiative_a"], estate["initiative_b"])
    client.force_login(member_a)
    row = client.get(url("model_list")).context["rows"][0]
    assert (row.version_count, row.initiative_count) == (3, 2)


def test_pool_list_shows_gpus_allocated_today(client, member_a, unit_a, estate):
    GPUAllocationFactory(  # ended: not counted
        pool=estate["pool"],
        business_unit=unit_a,
        gpu_count=Decimal("8"),
        starts_on=today() - datetime.timedelta(days=20),
        ends_on=today() - datetime.timedelta(days=10),
    )
    client.force_login(member_a)
    row = client.get(url("pool_list")).context["rows"][0]
    # Pool totals cover every unit, though a member only sees their own allocations.
    assert row.allocated_gpus == Decimal("5")


def test_allocation_list_marks_orphaned_allocations(client, platform_engineer, unit_a):
    GPUAllocationFactory(business_unit=unit_a, initiative=None)
    GPUAllocationFactory(
        business_unit=unit_a,
        initiative=InitiativeFactory(business_unit=unit_a, stage=Stage.RETIRED),
    )
    live = GPUAllocationFactory(
        business_unit=unit_a, initiative=InitiativeFactory(business_unit=unit_a, stage=Stage.PILOT)
    )
    client.force_login(platform_engineer)
    body = client.get(url("allocation_list"), HTTP_HX_REQUEST="true").content.decode()
    assert body.count('class="badge badge-orphaned"') == 2
    assert body.count(">none<") == 1
    assert f'href="{live.initiative.get_absolute_url()}"' in body


@pytest.mark.parametrize("list_name", LIST_NAMES)
def test_htmx_request_gets_only_the_results_partial(client, platform_engineer, estate, list_name):
    client.force_login(platform_engineer)
    response = client.get(url(list_name), {"page": "1"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<table" in body
    assert "<html" not in body and 'class="filters"' not in body
    assert "HX-Request" in response["Vary"]
    full = client.get(url(list_name))
    assert "<html" in full.content.decode() and "HX-Request" in full["Vary"]


@pytest.mark.parametrize(
    "list_name, sort_keys",
    [
        ("model_list", ["name", "type", "created"]),
        ("pool_list", ["name", "provider", "capacity"]),
        ("allocation_list", ["pool", "gpus", "starts"]),
    ],
)
def test_lists_have_sortable_headers(client, platform_engineer, estate, list_name, sort_keys):
    client.force_login(platform_engineer)
    body = client.get(url(list_name)).content.decode()
    assert body.count('<th scope="col">') == body.count("<th ") + body.count("<th>")
    for key in sort_keys:
        assert f'hx-get="?ordering={key}"' in body
        response = client.get(url(list_name), {"ordering": f"-{key}"})
        assert response.status_code == 200 and response.context["rows"]


def test_annotated_lists_keep_their_default_order(client, member_a, unit_a):
    # The counts and sums put a GROUP BY in these queries, which drops Meta.ordering.
    for name in ("zeta", "alpha", "mid"):
        AIModelFactory(business_unit=unit_a, name=f"{name}-model")
        GPUPoolFactory(name=f"{name}-pool")
    client.force_login(member_a)
    models = client.get(url("model_list")).context["rows"]
    assert [row.name for row in models] == ["alpha-model", "mid-model", "zeta-model"]
    pools = client.get(url("pool_list")).context["rows"]
    assert [row.name for row in pools] == ["alpha-pool", "mid-pool", "zeta-pool"]


def test_pool_list_sorts_by_capacity(client, member_a):
    GPUPoolFactory(name="small-pool", gpu_count=2)
    GPUPoolFactory(name="large-pool", gpu_count=64)
    client.force_login(member_a)
    rows = client.get(url("pool_list"), {"ordering": "-capacity"}).context["rows"]
    assert [row.name for row in rows] == ["large-pool", "small-pool"]


@pytest.mark.parametrize(
    "list_name, empty_text, filtered_text",
    [
        ("model_list", "No models registered yet", "No models match"),
        ("pool_list", "No GPU pools yet", "No GPU pools match"),
        ("allocation_list", "No GPU allocations yet", "No GPU allocations match"),
    ],
)
def test_empty_states(client, platform_engineer, list_name, empty_text, filtered_text):
    client.force_login(platform_engineer)
    assert empty_text in client.get(url(list_name)).content.decode()
    assert filtered_text in client.get(url(list_name), {"q": "nothing"}).content.decode()


def test_filters_search(client, platform_engineer, estate):
    client.force_login(platform_engineer)
    rows = client.get(url("model_list"), {"q": "beta"}).context["rows"]
    assert [row.pk for row in rows] == [estate["model_b"].pk]
    rows = client.get(url("allocation_list"), {"q": estate["initiative_a"].reference}).context[
        "rows"
    ]
    assert [row.pk for row in rows] == [estate["allocation_a"].pk]


# --- Details -----------------------------------------------------------------------------


def test_out_of_scope_details_are_404(client, member_a, estate):
    client.force_login(member_a)
    assert client.get(url("model_detail", estate["model_a"].pk)).status_code == 200
    assert client.get(url("model_detail", estate["model_b"].pk)).status_code == 404
    assert client.get(url("allocation_detail", estate["allocation_a"].pk)).status_code == 200
    assert client.get(url("allocation_detail", estate["allocation_b"].pk)).status_code == 404
    assert client.get(url("model_detail", 999999)).status_code == 404


def test_model_detail_lists_versions_and_only_visible_initiatives(client, request, estate):
    model = estate["model_a"]
    ModelVersionFactory(model=model, version="1.0")
    ModelVersionFactory(model=model, version="2.0")
    model.initiatives.add(estate["initiative_a"], estate["initiative_b"])

    client.force_login(request.getfixturevalue("member_a"))
    response = client.get(url("model_detail", model.pk))
    page = response.content.decode()
    assert [v.version for v in response.context["versions"]] == ["2.0", "1.0"]
    assert "Alpha initiative" in page and "Beta initiative" not in page
    assert f'href="{url("model_update", model.pk)}"' in page
    assert f'action="{url("model_version_create", model.pk)}"' in page

    client.force_login(request.getfixturevalue("coe_reviewer"))
    page = client.get(url("model_detail", model.pk)).content.decode()
    assert "Alpha initiative" in page and "Beta initiative" in page
    assert url("model_update", model.pk) not in page
    assert url("model_version_create", model.pk) not in page


def test_model_detail_shows_model_card_completeness(client, member_a, estate):
    model = estate["model_a"]
    ModelVersionFactory(model=model, version="1.0", intended_use="Triage claims.")
    ModelVersionFactory(
        model=model,
        version="2.0",
        intended_use="Triage claims.",
        limitations="English only.",
        human_oversight="Handlers review every decision.",
    )
    client.force_login(member_a)
    page = client.get(url("model_detail", model.pk)).content.decode()
    assert "lacks limitations, human oversight" in page
    assert page.count("<td>complete</td>") == 1


def test_pool_detail_shows_capacity_and_only_visible_allocations(client, request, estate):
    pool = estate["pool"]
    client.force_login(request.getfixturevalue("member_a"))
    response = client.get(url("pool_detail", pool.pk))
    assert response.status_code == 200
    assert response.context["free_gpus"] == Decimal("11")
    assert [a.pk for a in response.context["allocations"]] == [estate["allocation_a"].pk]
    page = response.content.decode()
    assert "Alpha initiative" in page and "Beta initiative" not in page
    assert url("pool_update", pool.pk) not in page

    client.force_login(request.getfixturevalue("platform_engineer"))
    response = client.get(url("pool_detail", pool.pk))
    assert {a.pk for a in response.context["allocations"]} == {
        estate["allocation_a"].pk,
        estate["allocation_b"].pk,
    }
    page = response.content.decode()
    assert url("pool_update", pool.pk) in page
    assert f"{url('allocation_create')}?pool={pool.pk}" in page


@pytest.mark.parametrize(
    "initiative_stage, orphaned", [(None, True), (Stage.REJECTED, True), (Stage.PRODUCTION, False)]
)
def test_allocation_detail_warns_when_orphaned(
    client, member_a, unit_a, initiative_stage, orphaned
):
    initiative = (
        InitiativeFactory(business_unit=unit_a, stage=initiative_stage)
        if initiative_stage
        else None
    )
    allocation = GPUAllocationFactory(business_unit=unit_a, initiative=initiative)
    client.force_login(member_a)
    page = client.get(url("allocation_detail", allocation.pk)).content.decode()
    assert ("Orphaned allocation" in page) == orphaned
    assert url("allocation_update", allocation.pk) not in page


# --- Forms: who may open them ------------------------------------------------------------

FORM_STATUS = {
    # persona: model_create, model_update, pool_create, pool_update, allocation_create,
    # allocation_update (the model and allocation belong to unit A)
    "member_a": [200, 200, 403, 403, 403, 403],
    "member_b": [200, 404, 403, 403, 403, 404],
    "platform_engineer": [200, 200, 200, 200, 200, 200],
    "coe_reviewer": [403, 403, 403, 403, 403, 403],
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_form_pages_by_persona(client, request, estate, persona):
    login(client, request, persona)
    urls = [
        url("model_create"),
        url("model_update", estate["model_a"].pk),
        url("pool_create"),
        url("pool_update", estate["pool"].pk),
        url("allocation_create"),
        url("allocation_update", estate["allocation_a"].pk),
    ]
    statuses = [client.get(address).status_code for address in urls]
    assert statuses == FORM_STATUS[persona]


def test_every_form_input_has_a_label_and_dates_are_date_inputs(client, platform_engineer, estate):
    client.force_login(platform_engineer)
    for address in (
        url("model_create"),
        url("pool_create"),
        url("allocation_create"),
        url("allocation_update", estate["allocation_a"].pk),
        url("model_detail", estate["model_a"].pk),
    ):
        response = client.get(address)
        forms = [
            value
            for value in response.context[0].flatten().values()
            if hasattr(value, "visible_fields")
        ]
        page = response.content.decode()
        assert forms, address
        for form in forms:
            for field in form.visible_fields():
                assert f'<label for="{field.id_for_label}">' in page, (address, field.name)
    # Browsers need ISO dates in <input type="date">, whatever the locale.
    page = client.get(url("allocation_update", estate["allocation_a"].pk)).content.decode()
    starts_on = estate["allocation_a"].starts_on.isoformat()
    assert f'type="date" name="starts_on" value="{starts_on}"' in page


def test_model_form_offers_only_visible_initiatives(client, member_a, estate):
    client.force_login(member_a)
    form = client.get(url("model_create")).context["form"]
    assert list(form.fields["initiatives"].queryset) == [estate["initiative_a"]]
    assert list(form.fields["business_unit"].queryset) == [member_a.memberships.get().business_unit]


def test_allocation_form_offers_every_unit_to_platform_engineers(
    client, platform_engineer, unit_a, unit_b, estate
):
    client.force_login(platform_engineer)
    form = client.get(url("allocation_create"), {"pool": estate["pool"].pk}).context["form"]
    assert set(form.fields["business_unit"].queryset) == {unit_a, unit_b}
    assert set(form.fields["initiative"].queryset) == {
        estate["initiative_a"],
        estate["initiative_b"],
    }
    assert form["pool"].value() == str(estate["pool"].pk)


# --- Forms: posting ----------------------------------------------------------------------


def model_post(unit, owner, **overrides):
    return {
        "name": "fraud-scorer",
        "model_type": ModelType.DEEP_LEARNING,
        "hosting": "cloud",
        "business_unit": unit.pk,
        "owner": owner.pk,
        **overrides,
    }


def pool_post(**overrides):
    return {
        "name": "gke-a100",
        "kind": PoolKind.KUBERNETES,
        "provider": Provider.GCP,
        "region": "europe-west4",
        "gpu_type": GPUTypeFactory(name="A100 40GB", memory_gb=40).pk,
        "gpu_count": 8,
        "pricing_model": PricingModel.RESERVED,
        "hourly_rate": "2.10",
        "currency": "USD",
        **overrides,
    }


def allocation_post(pool, unit, **overrides):
    return {
        "pool": pool.pk,
        "gpu_count": "4",
        "business_unit": unit.pk,
        "purpose": AllocationPurpose.INFERENCE,
        "starts_on": today().isoformat(),
        **overrides,
    }


def test_member_registers_a_model(client, member_a, unit_a, estate):
    client.force_login(member_a)
    response = client.post(
        url("model_create"),
        model_post(unit_a, member_a, initiatives=[estate["initiative_a"].pk]),
    )
    model = AIModel.objects.get(name="fraud-scorer")
    assert response.status_code == 302 and response["Location"] == model.get_absolute_url()
    assert list(model.initiatives.all()) == [estate["initiative_a"]]
    assert audit_actions() == ["ai_model.created"]


def test_model_form_errors_are_shown_and_nothing_is_written(client, member_a, unit_a, estate):
    client.force_login(member_a)
    response = client.post(url("model_create"), model_post(unit_a, member_a, name=""))
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert "This field is required." in response.content.decode()

    # An initiative the member cannot see is not a valid choice (and is not revealed).
    response = client.post(
        url("model_create"),
        model_post(unit_a, member_a, initiatives=[estate["initiative_b"].pk]),
    )
    assert response.status_code == 200
    assert "initiatives" in response.context["form"].errors
    # A unit the member does not write for is not a valid choice either.
    response = client.post(
        url("model_create"), model_post(estate["model_b"].business_unit, member_a)
    )
    assert "business_unit" in response.context["form"].errors
    assert AIModel.objects.count() == 2
    assert not AuditEvent.objects.exists()


def test_duplicate_model_name_is_refused(client, member_a, unit_a, estate):
    client.force_login(member_a)
    response = client.post(url("model_create"), model_post(unit_a, member_a, name="alpha-scorer"))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_member_edits_a_model_keeping_links_they_cannot_see(client, member_a, estate):
    model = estate["model_a"]
    model.initiatives.add(estate["initiative_b"])
    client.force_login(member_a)
    form = client.get(url("model_update", model.pk)).context["form"]

    # The browser only has the visible initiative to offer.
    response = client.post(
        url("model_update", model.pk),
        form_data(form, name="alpha-scorer-v2", initiatives=[estate["initiative_a"].pk]),
    )

    assert response.status_code == 302
    model.refresh_from_db()
    assert model.name == "alpha-scorer-v2"
    assert set(model.initiatives.all()) == {estate["initiative_a"], estate["initiative_b"]}
    assert audit_actions() == ["ai_model.updated"]


def test_rejected_edit_keeps_the_stored_name_in_the_heading(client, member_a, unit_a, estate):
    AIModelFactory(business_unit=unit_a, name="taken-name")
    model = estate["model_a"]
    client.force_login(member_a)
    form = client.get(url("model_update", model.pk)).context["form"]
    response = client.post(url("model_update", model.pk), form_data(form, name="taken-name"))
    assert response.status_code == 200
    assert "Edit model · alpha-scorer" in response.content.decode()
    model.refresh_from_db()
    assert model.name == "alpha-scorer"


def test_denied_model_edit_changes_nothing(client, coe_reviewer, estate):
    model = estate["model_a"]
    client.force_login(coe_reviewer)
    response = client.post(url("model_update", model.pk), {"name": "hijacked"})
    assert response.status_code == 403
    model.refresh_from_db()
    assert model.name == "alpha-scorer"
    assert not AuditEvent.objects.exists()


def test_add_version_from_the_model_page(client, member_a, estate):
    model = estate["model_a"]
    client.force_login(member_a)
    response = client.post(
        url("model_version_create", model.pk),
        {
            "version": "3.1",
            "status": "validation",
            "monitoring_status": "healthy",
            "released_on": "2025-03-01",
        },
    )
    assert response.status_code == 302 and response["Location"] == model.get_absolute_url()
    version = model.versions.get()
    assert (version.version, version.released_on) == ("3.1", datetime.date(2025, 3, 1))
    assert audit_actions() == ["model_version.created"]


def test_add_version_errors_rerender_the_model_page(client, member_a, estate):
    model = estate["model_a"]
    ModelVersionFactory(model=model, version="1.0")
    client.force_login(member_a)
    response = client.post(
        url("model_version_create", model.pk),
        {"version": "1.0", "status": "development", "monitoring_status": "unknown"},
    )
    assert response.status_code == 200
    assert response.context["version_form"].errors["version"] == [
        "alpha-scorer already has a version 1.0."
    ]
    assert "already has a version 1.0" in response.content.decode()
    assert model.versions.count() == 1
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona, status", [("member_b", 404), ("coe_reviewer", 403)])
def test_add_version_denied(client, request, estate, persona, status):
    login(client, request, persona)
    response = client.post(
        url("model_version_create", estate["model_a"].pk),
        {"version": "9.9", "status": "development", "monitoring_status": "unknown"},
    )
    assert response.status_code == status
    assert not ModelVersion.objects.exists()
    assert client.get(url("model_version_create", estate["model_a"].pk)).status_code == 405


def test_platform_engineer_creates_and_edits_a_pool(client, platform_engineer):
    client.force_login(platform_engineer)
    response = client.post(url("pool_create"), pool_post())
    pool = GPUPool.objects.get(name="gke-a100")
    assert response.status_code == 302 and response["Location"] == pool.get_absolute_url()

    form = client.get(url("pool_update", pool.pk)).context["form"]
    response = client.post(url("pool_update", pool.pk), form_data(form, gpu_count=12))
    assert response.status_code == 302
    pool.refresh_from_db()
    assert pool.gpu_count == 12
    assert audit_actions() == ["gpu_pool.created", "gpu_pool.updated"]


def test_pool_form_errors(client, platform_engineer, unit_a, estate):
    client.force_login(platform_engineer)
    response = client.post(url("pool_create"), pool_post(hourly_rate="-1", name=""))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"hourly_rate", "name"}

    # The service refuses to shrink the pool below today's allocations (5 GPUs).
    pool = estate["pool"]
    form = client.get(url("pool_update", pool.pk)).context["form"]
    response = client.post(url("pool_update", pool.pk), form_data(form, gpu_count=4))
    assert response.status_code == 200
    errors = response.context["form"].errors["gpu_count"]
    # The service prints the sum as the database returns it: 5 on SQLite, 5.00 on PostgreSQL.
    assert len(errors) == 1
    assert re.fullmatch(
        r"5(\.00)? GPUs are allocated from this pool from today on; "
        r"capacity cannot go below that\.",
        errors[0],
    )
    assert "capacity cannot go below that" in response.content.decode()
    assert "Edit GPU pool · shared-pool" in response.content.decode()
    pool.refresh_from_db()
    assert pool.gpu_count == 16
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", ["member_a", "coe_reviewer"])
def test_denied_pool_and_allocation_posts_change_nothing(client, request, unit_a, estate, persona):
    login(client, request, persona)
    pool, allocation = estate["pool"], estate["allocation_a"]
    responses = [
        client.post(url("pool_create"), pool_post()),
        client.post(url("pool_update", pool.pk), pool_post(name="renamed")),
        client.post(url("allocation_create"), allocation_post(pool, unit_a)),
        client.post(url("allocation_update", allocation.pk), allocation_post(pool, unit_a)),
    ]
    assert [response.status_code for response in responses] == [403, 403, 403, 403]
    assert list(GPUPool.objects.values_list("name", flat=True)) == ["shared-pool"]
    assert GPUAllocation.objects.count() == 2
    allocation.refresh_from_db()
    assert allocation.gpu_count == Decimal("2")
    assert not AuditEvent.objects.exists()


def test_platform_engineer_allocates_and_edits(client, platform_engineer, unit_b, estate):
    client.force_login(platform_engineer)
    response = client.post(
        url("allocation_create"),
        allocation_post(estate["pool"], unit_b, initiative=estate["initiative_b"].pk),
    )
    allocation = GPUAllocation.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == allocation.get_absolute_url()
    assert (allocation.gpu_count, allocation.initiative) == (Decimal("4"), estate["initiative_b"])
    assert allocation.approved_by == platform_engineer

    form = client.get(url("allocation_update", allocation.pk)).context["form"]
    response = client.post(url("allocation_update", allocation.pk), form_data(form, initiative=""))
    assert response.status_code == 302
    allocation.refresh_from_db()
    assert allocation.initiative is None
    assert audit_actions() == ["gpu_allocation.created", "gpu_allocation.updated"]


def test_over_committing_a_pool_shows_the_error_on_gpu_count(
    client, platform_engineer, unit_a, estate
):
    client.force_login(platform_engineer)
    response = client.post(
        url("allocation_create"), allocation_post(estate["pool"], unit_a, gpu_count="12")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["gpu_count"] == [
        "Only 11 of 16 GPUs in shared-pool are free for that period."
    ]
    assert 'id="id_gpu_count_error"' in response.content.decode()
    assert GPUAllocation.objects.count() == 2
    assert not AuditEvent.objects.exists()


def test_allocation_form_validates_its_input(client, platform_engineer, unit_a, estate):
    client.force_login(platform_engineer)
    response = client.post(
        url("allocation_create"),
        allocation_post(
            estate["pool"],
            unit_a,
            gpu_count="0",
            ends_on=(today() - datetime.timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"gpu_count", "ends_on"}
    assert errors["ends_on"] == ["The end date cannot be before the start date."]
    assert GPUAllocation.objects.count() == 2
