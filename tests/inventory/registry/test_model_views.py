"""The model lifecycle web UI (issue 6): inventory list with its filters and exports, the
model page and its version actions, the vendor register, overdue reviews and the model card
PDF — rendered for the right personas, 404/403 for the others, constant query counts."""

import datetime
import io
import shutil
import subprocess

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.choices import Role
from core.models import AuditEvent
from governance.approvals.models import ApprovalRequest
from governance.approvals.policies import active_policy
from inventory.registry.choices import ModelStatus, ModelType, MonitoringSource, MonitoringStatus
from inventory.registry.models import EvaluationMetric, ModelVersion, MonitoringReport, Vendor
from tests.factories import (
    AIModelFactory,
    GPUAllocationFactory,
    InitiativeFactory,
    UserFactory,
    VendorFactory,
    member,
)
from tests.inventory.helpers import ModelVersionFactory, today

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"inventory:{name}", args=args)


def login(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    return user


def set_status(version, status, **fields):
    """Put a version in any status for a test (the services' transitions are tested in
    test_services; ``save()`` refuses status changes on purpose)."""
    ModelVersion.objects.filter(pk=version.pk).update(status=status, **fields)
    version.refresh_from_db()
    return version


def days_ago(days):
    return today() - datetime.timedelta(days=days)


@pytest.fixture
def lifecycle(unit_a, unit_b):
    """A Retail model shared with an Insurance initiative (two consumer units), with an
    overdue production version that drifts; and an Insurance-only model."""
    vendor = VendorFactory(name="Acme AI")
    shared = AIModelFactory(
        name="fraud-scorer",
        business_unit=unit_a,
        vendor=vendor,
        model_type=ModelType.CLASSICAL_ML,
        effective_tier=2,
    )
    initiative_a = InitiativeFactory(business_unit=unit_a, title="Card fraud")
    initiative_b = InitiativeFactory(business_unit=unit_b, title="Claims fraud")
    shared.initiatives.add(initiative_a, initiative_b)
    live = ModelVersionFactory(model=shared, version="2.0", intended_use="Flag card fraud.")
    set_status(
        live,
        ModelStatus.PRODUCTION,
        next_review_due=days_ago(10),
        monitoring_status=MonitoringStatus.DRIFTING,
    )
    draft = ModelVersionFactory(model=shared, version="2.1")
    other = AIModelFactory(
        name="claims-triage",
        business_unit=unit_b,
        model_type=ModelType.FOUNDATION,
        effective_tier=3,
    )
    ModelVersionFactory(model=other, version="1.0", status=ModelStatus.VALIDATION)
    return {
        "vendor": vendor,
        "shared": shared,
        "other": other,
        "live": live,
        "draft": draft,
        "initiative_a": initiative_a,
        "initiative_b": initiative_b,
    }


def listed_names(response) -> list[str]:
    return [model.name for model in response.context["page_obj"].object_list]


# --- Anonymous ---------------------------------------------------------------------------


def test_anonymous_is_redirected_to_login(client, lifecycle):
    shared, live = lifecycle["shared"], lifecycle["live"]
    for address in [
        url("model_list_csv"),
        url("model_list_xlsx"),
        url("overdue_review_list"),
        url("vendor_list"),
        url("vendor_create"),
        url("vendor_detail", lifecycle["vendor"].pk),
        url("vendor_update", lifecycle["vendor"].pk),
        url("model_card_pdf", shared.pk, live.pk),
    ]:
        response = client.get(address)
        assert response.status_code == 302, address
        assert response["Location"].startswith(reverse("login"))
    for name in ["status", "release", "validation", "monitoring", "metric"]:
        response = client.post(url(f"model_version_{name}", shared.pk, live.pk))
        assert response.status_code == 302


# --- Model inventory list: filters and badges ----------------------------------------------


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, ["claims-triage", "fraud-scorer"]),
        ({"model_type": ModelType.FOUNDATION}, ["claims-triage"]),
        ({"version_status": ModelStatus.PRODUCTION}, ["fraud-scorer"]),
        ({"version_status": ModelStatus.VALIDATION}, ["claims-triage"]),
        ({"effective_tier": "3"}, ["claims-triage"]),
        ({"effective_tier": "none"}, []),
        ({"review_overdue": "true"}, ["fraud-scorer"]),
        ({"review_overdue": "false"}, ["claims-triage"]),
        ({"drifting": "true"}, ["fraud-scorer"]),
        ({"drifting": "false"}, ["claims-triage"]),
        ({"ordering": "-tier"}, ["claims-triage", "fraud-scorer"]),
    ],
)
def test_model_list_filters(client, coe_reviewer, lifecycle, params, expected):
    client.force_login(coe_reviewer)
    response = client.get(url("model_list"), params)
    assert response.status_code == 200
    assert listed_names(response) == expected


def test_model_list_filters_by_vendor_and_unit(client, coe_reviewer, lifecycle, unit_b):
    client.force_login(coe_reviewer)
    response = client.get(url("model_list"), {"vendor": lifecycle["vendor"].pk})
    assert listed_names(response) == ["fraud-scorer"]
    response = client.get(url("model_list"), {"business_unit": unit_b.pk})
    assert listed_names(response) == ["claims-triage"]


def test_model_list_shows_shared_overdue_and_drifting_badges(client, coe_reviewer, lifecycle):
    client.force_login(coe_reviewer)
    response = client.get(url("model_list"))
    rows = {model.name: model for model in response.context["page_obj"].object_list}
    shared, other = rows["fraud-scorer"], rows["claims-triage"]
    assert shared.consumer_unit_count == 2 and other.consumer_unit_count == 0
    assert shared.has_overdue_review and shared.is_drifting
    assert not other.has_overdue_review and not other.is_drifting
    assert shared.latest_version == "2.1"
    html = response.content.decode()
    assert "Shared · 2 units" in html
    assert "Review overdue" in html
    assert "Drifting" in html
    assert "Tier 2" in html and "Tier 3" in html


def test_member_lists_only_models_in_scope(client, member_b, lifecycle):
    # Bob (Insurance) sees his unit's model and the Retail model serving his initiative.
    client.force_login(member_b)
    response = client.get(url("model_list"))
    assert listed_names(response) == ["claims-triage", "fraud-scorer"]
    outsider = member(Role.BU_MEMBER, username="olga")
    client.force_login(outsider)
    assert listed_names(client.get(url("model_list"))) == []


# --- Exports -------------------------------------------------------------------------------


def test_csv_export_contains_the_filtered_rows(client, coe_reviewer, lifecycle):
    client.force_login(coe_reviewer)
    response = client.get(url("model_list_csv"), {"drifting": "true"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("Name,Type,Vendor")
    assert len(lines) == 2
    assert lines[1].startswith("fraud-scorer,Classical ML,Acme AI")
    assert ",Yes,Yes,Yes," in lines[1]  # shared, review overdue, drifting


def test_csv_export_is_scoped_and_defuses_formulas(client, member_a, unit_a):
    AIModelFactory(name="=HYPERLINK(1)", business_unit=unit_a)
    AIModelFactory(name="hidden-model")  # another unit
    client.force_login(member_a)
    response = client.get(url("model_list_csv"))
    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1)" in text
    assert "hidden-model" not in text


def test_xlsx_export_contains_the_filtered_rows(client, coe_reviewer, lifecycle):
    client.force_login(coe_reviewer)
    response = client.get(url("model_list_xlsx"), {"model_type": ModelType.FOUNDATION})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Name", "Type", "Vendor")
    assert len(rows) == 2
    name, model_type, *_rest = rows[1]
    assert (name, model_type) == ("claims-triage", "LLM / foundation model")
    tier_column = rows[0].index("Effective tier")
    assert rows[1][tier_column] == 3


def test_invalid_filter_exports_no_rows(client, coe_reviewer, lifecycle):
    client.force_login(coe_reviewer)
    response = client.get(url("model_list_csv"), {"model_type": "nonsense"})
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1


# --- Model page ----------------------------------------------------------------------------


def test_model_page_shows_lifecycle_sections(client, member_a, lifecycle, unit_a):
    shared, live = lifecycle["shared"], lifecycle["live"]
    EvaluationMetric.objects.create(
        version=live, name="auc", value=0.91, dataset="holdout-2026", measured_on=days_ago(5)
    )
    MonitoringReport.objects.create(
        version=live,
        status=MonitoringStatus.DRIFTING,
        source=MonitoringSource.API,
        note="PSI above threshold",
        reported_at=datetime.datetime.now(tz=datetime.UTC),
    )
    GPUAllocationFactory(business_unit=unit_a, initiative=lifecycle["initiative_a"])
    client.force_login(member_a)
    response = client.get(url("model_detail", shared.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Shared model foundation" in html
    assert "Insurance" in html and "Retail Banking" in html
    assert "Flag card fraud." in html  # the model card
    assert "holdout-2026" in html  # metrics history
    assert "PSI above threshold" in html  # monitoring history
    assert "Overdue" in html
    assert response.context["allocations"].count() == 1
    # Alice sees her unit's initiative, not Insurance's one.
    assert [i.pk for i in response.context["initiatives"]] == [lifecycle["initiative_a"].pk]
    assert 'name="csrfmiddlewaretoken"' in html
    assert url("model_card_pdf", shared.pk, live.pk) in html


def test_model_page_is_404_out_of_scope(client, lifecycle):
    outsider = member(Role.BU_MEMBER, username="olga")
    client.force_login(outsider)
    shared, live = lifecycle["shared"], lifecycle["live"]
    assert client.get(url("model_detail", shared.pk)).status_code == 404
    assert client.get(url("model_card_pdf", shared.pk, live.pk)).status_code == 404
    response = client.post(
        url("model_version_status", shared.pk, live.pk), {f"status-{live.pk}-to_status": "x"}
    )
    assert response.status_code == 404


def test_version_of_another_model_is_404(client, coe_admin, lifecycle):
    client.force_login(coe_admin)
    other_version = lifecycle["other"].versions.get()
    response = client.get(url("model_card_pdf", lifecycle["shared"].pk, other_version.pk))
    assert response.status_code == 404


def test_actions_are_shown_to_editors_only(client, member_a, member_b, lifecycle):
    shared, draft = lifecycle["shared"], lifecycle["draft"]
    client.force_login(member_a)
    html = client.get(url("model_detail", shared.pk)).content.decode()
    assert url("model_version_status", shared.pk, draft.pk) in html
    assert url("model_version_monitoring", shared.pk, lifecycle["live"].pk) in html
    assert url("model_version_monitoring", shared.pk, draft.pk) not in html
    # Bob sees the model (it serves his initiative) but cannot edit it.
    client.force_login(member_b)
    response = client.get(url("model_detail", shared.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert url("model_version_status", shared.pk, draft.pk) not in html
    assert "Request release" not in html
    assert response.context["initiatives"].get() == lifecycle["initiative_b"]


def test_status_form_moves_along_allowed_transitions(client, member_a, lifecycle):
    shared, draft = lifecycle["shared"], lifecycle["draft"]
    client.force_login(member_a)
    response = client.post(
        url("model_version_status", shared.pk, draft.pk),
        {f"status-{draft.pk}-to_status": ModelStatus.VALIDATION, f"status-{draft.pk}-reason": "ok"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == ModelStatus.VALIDATION
    assert AuditEvent.objects.filter(action="model_version.status_changed").count() == 1


def test_status_form_cannot_set_production(client, member_a, lifecycle):
    shared, draft = lifecycle["shared"], lifecycle["draft"]
    set_status(draft, ModelStatus.APPROVED)
    client.force_login(member_a)
    page = client.get(url("model_detail", shared.pk))
    panel = next(p for p in page.context["panels"] if p.version.pk == draft.pk)
    offered = [value for value, _ in panel.status_form.fields["to_status"].choices]
    assert ModelStatus.PRODUCTION not in offered
    response = client.post(
        url("model_version_status", shared.pk, draft.pk),
        {f"status-{draft.pk}-to_status": ModelStatus.PRODUCTION},
    )
    assert response.status_code == 200
    panel = next(p for p in response.context["panels"] if p.version.pk == draft.pk)
    assert panel.status_form.errors["to_status"]
    draft.refresh_from_db()
    assert draft.status == ModelStatus.APPROVED
    assert not AuditEvent.objects.filter(action="model_version.status_changed").exists()


def test_status_change_by_non_editor_is_403_and_changes_nothing(client, member_b, lifecycle):
    shared, draft = lifecycle["shared"], lifecycle["draft"]
    client.force_login(member_b)
    response = client.post(
        url("model_version_status", shared.pk, draft.pk),
        {f"status-{draft.pk}-to_status": ModelStatus.VALIDATION},
    )
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == ModelStatus.DEVELOPMENT
    assert not AuditEvent.objects.exists()


def test_release_request_shows_the_service_refusal(client, member_a, unit_a):
    model = AIModelFactory(business_unit=unit_a, name="unlinked")  # serves no initiative
    version = set_status(ModelVersionFactory(model=model), ModelStatus.APPROVED)
    client.force_login(member_a)
    page = client.get(url("model_detail", model.pk)).content.decode()
    assert "Request release" in page
    response = client.post(url("model_version_release", model.pk, version.pk), {})
    assert response.status_code == 200
    assert "Link the model to the initiative it serves" in response.content.decode()
    assert not ApprovalRequest.objects.exists()


def test_model_page_lists_release_requests(client, member_a, lifecycle):
    shared, draft = lifecycle["shared"], lifecycle["draft"]
    policy = active_policy(tier=2, gate="model_release")
    ApprovalRequest.objects.create(
        initiative=lifecycle["initiative_a"],
        gate="model_release",
        tier=2,
        policy=policy,
        policy_snapshot=policy.snapshot(),
        subject_type="inventory.modelversion",
        subject_id=str(draft.pk),
        submitted_by=member_a,
        submitted_at=datetime.datetime.now(tz=datetime.UTC),
    )
    client.force_login(member_a)
    response = client.get(url("model_detail", shared.pk))
    (approval,) = response.context["release_requests"]
    assert approval.version == draft
    assert approval.get_absolute_url() in response.content.decode()


def test_record_validation_and_metric(client, member_a, lifecycle):
    shared, live = lifecycle["shared"], lifecycle["live"]
    client.force_login(member_a)
    response = client.post(
        url("model_version_validation", shared.pk, live.pk),
        {f"validation-{live.pk}-validated_on": today().isoformat()},
    )
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.last_validated_on == today()
    assert live.next_review_due > today()
    response = client.post(
        url("model_version_metric", shared.pk, live.pk),
        {
            f"metric-{live.pk}-name": "recall",
            f"metric-{live.pk}-value": "0.8",
            f"metric-{live.pk}-measured_on": today().isoformat(),
        },
    )
    assert response.status_code == 302
    assert live.metrics.get().name == "recall"


def test_future_validation_is_refused_on_the_form(client, member_a, lifecycle):
    shared, live = lifecycle["shared"], lifecycle["live"]
    client.force_login(member_a)
    tomorrow = today() + datetime.timedelta(days=1)
    response = client.post(
        url("model_version_validation", shared.pk, live.pk),
        {f"validation-{live.pk}-validated_on": tomorrow.isoformat()},
    )
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    live.refresh_from_db()
    assert live.last_validated_on is None


def test_report_monitoring_by_hand(client, member_a, lifecycle):
    shared, live, draft = lifecycle["shared"], lifecycle["live"], lifecycle["draft"]
    client.force_login(member_a)
    response = client.post(
        url("model_version_monitoring", shared.pk, live.pk),
        {f"monitoring-{live.pk}-status": "healthy", f"monitoring-{live.pk}-note": "retrained"},
    )
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.monitoring_status == MonitoringStatus.HEALTHY
    assert live.monitoring_reports.get().note == "retrained"
    # A version not in production is refused by the service, shown on the page.
    response = client.post(
        url("model_version_monitoring", shared.pk, draft.pk),
        {f"monitoring-{draft.pk}-status": "healthy"},
    )
    assert response.status_code == 200
    assert "Only versions in production are monitored" in response.content.decode()


# --- Model card PDF ------------------------------------------------------------------------


def test_model_card_pdf(client, member_b, lifecycle):
    shared, live = lifecycle["shared"], lifecycle["live"]
    client.force_login(member_b)  # may see the model through his initiative
    response = client.get(url("model_card_pdf", shared.pk, live.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 1000
    if shutil.which("pdftotext"):
        text = subprocess.run(  # noqa: S603 — fixed arguments, test only
            ["pdftotext", "-", "-"],  # noqa: S607
            input=response.content,
            capture_output=True,
            check=True,
        ).stdout.decode()
        assert "fraud-scorer 2.0" in text
        assert "Flag card fraud." in text


# --- Overdue reviews -----------------------------------------------------------------------


def test_overdue_reviews_oldest_first_and_scoped(client, coe_reviewer, member_b, lifecycle):
    older = set_status(
        ModelVersionFactory(model=lifecycle["other"], version="0.9"),
        ModelStatus.APPROVED,
        next_review_due=days_ago(40),
    )
    set_status(  # due in the future: not overdue
        ModelVersionFactory(model=lifecycle["other"], version="0.8"),
        ModelStatus.APPROVED,
        next_review_due=today() + datetime.timedelta(days=3),
    )
    set_status(  # retired: off the schedule
        ModelVersionFactory(model=lifecycle["other"], version="0.7"),
        ModelStatus.RETIRED,
        next_review_due=days_ago(90),
    )
    client.force_login(coe_reviewer)
    response = client.get(url("overdue_review_list"))
    assert response.status_code == 200
    assert list(response.context["page_obj"].object_list) == [older, lifecycle["live"]]
    outsider = member(Role.BU_MEMBER, username="olga")
    client.force_login(outsider)
    assert list(client.get(url("overdue_review_list")).context["page_obj"].object_list) == []


# --- Vendor register -----------------------------------------------------------------------


def test_vendor_list_filters(client, member_a, lifecycle):
    VendorFactory(
        name="Beta Labs",
        due_diligence_status="approved",
        contract_ends_on=today() + datetime.timedelta(days=400),
    )
    Vendor.objects.filter(pk=lifecycle["vendor"].pk).update(contract_ends_on=days_ago(1))
    client.force_login(member_a)
    response = client.get(url("vendor_list"))
    assert response.status_code == 200
    assert [v.name for v in response.context["page_obj"].object_list] == ["Acme AI", "Beta Labs"]
    names = [
        v.name
        for v in client.get(url("vendor_list"), {"due_diligence_status": "approved"}).context[
            "page_obj"
        ]
    ]
    assert names == ["Beta Labs"]
    soon = (today() + datetime.timedelta(days=30)).isoformat()
    response = client.get(url("vendor_list"), {"contract_ends_before": soon})
    assert [v.name for v in response.context["page_obj"]] == ["Acme AI"]
    response = client.get(url("vendor_list"), {"q": "beta"})
    assert [v.name for v in response.context["page_obj"]] == ["Beta Labs"]


def test_vendor_page_lists_only_visible_models(client, member_a, lifecycle, unit_b):
    vendor = lifecycle["vendor"]
    AIModelFactory(name="insurance-only", business_unit=unit_b, vendor=vendor)
    client.force_login(member_a)
    response = client.get(url("vendor_detail", vendor.pk))
    assert response.status_code == 200
    assert [model.name for model in response.context["models"]] == ["fraud-scorer"]
    assert response.context["vendor"].model_count == 1
    html = response.content.decode()
    assert "insurance-only" not in html
    assert "Card fraud" in html and "Claims fraud" not in html
    assert url("vendor_update", vendor.pk) not in html
    assert client.get(url("vendor_detail", 999999)).status_code == 404


@pytest.mark.parametrize("persona", ["member_a", "executive"])
def test_vendor_forms_are_403_without_the_role(client, request, persona, lifecycle):
    login(client, request, persona)
    vendor = lifecycle["vendor"]
    assert client.get(url("vendor_create")).status_code == 403
    assert client.post(url("vendor_create"), {"name": "X"}).status_code == 403
    assert client.get(url("vendor_update", vendor.pk)).status_code == 403
    response = client.post(
        url("vendor_product_create", vendor.pk), {"name": "P", "kind": "saas_ai"}
    )
    assert response.status_code == 403
    assert Vendor.objects.count() == 1 and not vendor.products.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", ["coe_reviewer", "platform_engineer"])
def test_vendor_create_edit_and_product(client, request, persona):
    login(client, request, persona)
    response = client.post(
        url("vendor_create"),
        {"name": "Gamma", "due_diligence_status": "in_progress", "dpa_signed": "on"},
    )
    vendor = Vendor.objects.get(name="Gamma")
    assert response.status_code == 302 and response["Location"] == vendor.get_absolute_url()
    assert vendor.dpa_signed
    response = client.post(
        url("vendor_update", vendor.pk),
        {"name": "Gamma", "due_diligence_status": "approved", "contract_reference": "C-1"},
    )
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert (vendor.due_diligence_status, vendor.contract_reference) == ("approved", "C-1")
    response = client.post(
        url("vendor_product_create", vendor.pk), {"name": "Gamma Chat", "kind": "saas_ai"}
    )
    assert response.status_code == 302
    assert vendor.products.get().name == "Gamma Chat"
    # A duplicate product name is reported on the field.
    response = client.post(
        url("vendor_product_create", vendor.pk), {"name": "Gamma Chat", "kind": "saas_ai"}
    )
    assert response.status_code == 200
    assert "already has a product" in response.content.decode()
    actions = list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))
    assert actions == ["vendor.created", "vendor.updated", "vendor_product.created"]


# --- Query counts --------------------------------------------------------------------------


def _populate_model(model, count, *, unit_a, start=0):
    """``count`` more versions (each with metrics and a monitoring report), initiatives of
    their own units, and GPU allocations."""
    for n in range(start, start + count):
        version = ModelVersionFactory(model=model, version=f"counted-{n}")
        set_status(version, ModelStatus.APPROVED, next_review_due=days_ago(n + 1))
        EvaluationMetric.objects.create(version=version, name="auc", value=0.9, measured_on=today())
        EvaluationMetric.objects.create(version=version, name="f1", value=0.8, measured_on=today())
        MonitoringReport.objects.create(
            version=version,
            status=MonitoringStatus.HEALTHY,
            source=MonitoringSource.MANUAL,
            reported_by=UserFactory(),
            reported_at=datetime.datetime.now(tz=datetime.UTC),
        )
        initiative = InitiativeFactory(business_unit=unit_a) if n % 2 else InitiativeFactory()
        model.initiatives.add(initiative)
        GPUAllocationFactory(business_unit=unit_a, initiative=initiative)


def test_model_page_query_count_is_constant(
    client, member_a, unit_a, django_assert_max_num_queries, django_assert_num_queries
):
    model = AIModelFactory(business_unit=unit_a, vendor=VendorFactory(), owner=member_a)
    _populate_model(model, 2, unit_a=unit_a)
    client.force_login(member_a)
    address = url("model_detail", model.pk)
    client.get(address)  # warm per-process caches

    # Session, user, memberships, model, versions, release requests, consumer units,
    # notification badge, initiatives, metrics, monitoring reports, allocations, discussion
    # comments (issue 19: the Discussion section; its mentions and files are prefetched per
    # page, not per comment — tests/core/test_discussions.py), custom-field definitions (issue
    # 20: one query per request for every entity on the page — core.customfields).
    with django_assert_max_num_queries(14) as few:
        response = client.get(address)
    assert response.status_code == 200
    assert len(response.context["versions"]) == 2

    _populate_model(model, 10, unit_a=unit_a, start=2)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(address)
    assert len(response.context["versions"]) == 12
    assert len(response.context["panels"]) == 12


def _make_listed_models(count, *, unit_a, unit_b, start=0):
    for n in range(start, start + count):
        model = AIModelFactory(
            name=f"listed-{n}",
            business_unit=unit_a,
            vendor=VendorFactory(name=f"Listed vendor {n}"),
            effective_tier=1 + n % 4,
        )
        set_status(ModelVersionFactory(model=model), ModelStatus.PRODUCTION)
        model.initiatives.add(
            InitiativeFactory(business_unit=unit_a), InitiativeFactory(business_unit=unit_b)
        )


# Ceilings measured for 5 rows as a BU member: session, user, memberships, notification
# badge, the filter bar's choices (units; vendors), the page count and the rows.
LIST_CEILINGS = {"model_list": 9, "overdue_review_list": 7, "vendor_list": 6}


@pytest.mark.parametrize("address", list(LIST_CEILINGS))
def test_list_query_count_is_constant(
    client,
    member_a,
    unit_a,
    unit_b,
    django_assert_max_num_queries,
    django_assert_num_queries,
    address,
):
    client.force_login(member_a)
    _make_listed_models(5, unit_a=unit_a, unit_b=unit_b)
    ModelVersion.objects.update(next_review_due=days_ago(3))
    client.get(url(address))

    with django_assert_max_num_queries(LIST_CEILINGS[address]) as few:
        response = client.get(
            url(address), {"drifting": "false"} if address == "model_list" else {}
        )
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 5

    _make_listed_models(20, unit_a=unit_a, unit_b=unit_b, start=5)
    ModelVersion.objects.update(next_review_due=days_ago(3))
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(
            url(address), {"drifting": "false"} if address == "model_list" else {}
        )
    assert response.context["page_obj"].paginator.count == 25


def test_vendor_page_query_count_is_constant(
    client, member_a, unit_a, unit_b, django_assert_max_num_queries, django_assert_num_queries
):
    from inventory.registry.models import VendorProduct

    vendor = VendorFactory(name="Counted vendor")

    def add(count, start=0):
        for n in range(start, start + count):
            VendorProduct.objects.create(vendor=vendor, name=f"Product {n}", kind="saas_ai")
            model = AIModelFactory(name=f"vendor-model-{n}", business_unit=unit_a, vendor=vendor)
            model.initiatives.add(
                InitiativeFactory(business_unit=unit_a), InitiativeFactory(business_unit=unit_b)
            )

    add(2)
    client.force_login(member_a)
    address = url("vendor_detail", vendor.pk)
    client.get(address)
    with django_assert_max_num_queries(8) as few:
        response = client.get(address)
    assert len(response.context["models"]) == 2
    add(10, start=2)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(address)
    assert len(response.context["models"]) == 12
