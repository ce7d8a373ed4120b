"""Reads of the inventory, scoped to what the user may see.

Organisation-wide roles see everything. Other users see the models of their business units
or serving initiatives they can see, and their units' GPU allocations. GPU pools and types are
a shared catalogue every signed-in user may read.
"""

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.models import BusinessUnit
from core.permissions import business_unit_ids, reads_whole_organisation
from inventory.registry.choices import REVIEWED_VERSION_STATUSES, ModelStatus, MonitoringStatus
from inventory.registry.models import (
    AIModel,
    EvaluationMetric,
    ModelVersion,
    MonitoringReport,
    Vendor,
    VendorProduct,
)
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives

# A model that serves initiatives of this many business units is a shared foundation.
SHARED_MODEL_UNIT_COUNT = 2

# How many monitoring reports the model page and the version API show, newest first.
MONITORING_HISTORY_LIMIT = 50


def scope_models(queryset: QuerySet[AIModel], user) -> QuerySet[AIModel]:
    if reads_whole_organisation(user):
        return queryset
    units = business_unit_ids(user)
    if not units:
        return queryset.none()
    visible = scope_initiatives(Initiative.objects.all(), user)
    serves_visible = AIModel.initiatives.through.objects.filter(
        aimodel_id=OuterRef("pk"), initiative__in=visible
    )
    return queryset.filter(Q(business_unit_id__in=units) | Q(Exists(serves_visible)))


def review_overdue_condition(*, today=None) -> Q:
    """Versions on the review schedule whose next review was due before ``today``."""
    return Q(
        status__in=REVIEWED_VERSION_STATUSES,
        next_review_due__lt=today or timezone.localdate(),
    )


def drifting_condition() -> Q:
    """Versions in production whose monitoring reports drift."""
    return Q(status=ModelStatus.PRODUCTION, monitoring_status=MonitoringStatus.DRIFTING)


def _versions_of_row():
    return ModelVersion.objects.filter(model=OuterRef("pk"))


def model_list(*, user) -> QuerySet[AIModel]:
    """Visible models with what the inventory list, its filters and exports show, all in the
    one query: counts, consumer business units, the newest version, overdue review, drift."""
    newest = _versions_of_row().order_by("-created_at", "-pk")
    return scope_models(
        AIModel.objects.select_related("business_unit", "owner", "vendor", "vendor_product")
        .annotate(
            version_count=Count("versions", distinct=True),
            initiative_count=Count("initiatives", distinct=True),
            consumer_unit_count=Count("initiatives__business_unit", distinct=True),
            latest_version=Subquery(newest.values("version")[:1]),
            latest_status=Subquery(newest.values("status")[:1]),
            has_overdue_review=Exists(_versions_of_row().filter(review_overdue_condition())),
            is_drifting=Exists(_versions_of_row().filter(drifting_condition())),
        )
        # Meta.ordering is dropped from GROUP BY queries: order explicitly for stable pages.
        .order_by("name", "pk"),
        user,
    )


def model_get(*, user, pk) -> AIModel:
    return get_object_or_404(
        scope_models(AIModel.objects.select_related("business_unit", "owner", "vendor"), user),
        pk=pk,
    )


def model_version_timeline(*, model: AIModel) -> QuerySet[ModelVersion]:
    """Versions of a model already resolved through ``model_get``, newest first, with
    ``review_overdue`` for the timeline's highlight."""
    return model.versions.annotate(
        review_overdue=ExpressionWrapper(review_overdue_condition(), output_field=BooleanField())
    ).order_by("-created_at", "-id")


def model_page_version_get(*, user, model_pk, pk) -> ModelVersion:
    """One version of the model ``model_pk`` (resolved through ``model_get``, with its
    owner, unit and vendor), or 404 when either is out of scope or they do not match."""
    model = model_get(user=user, pk=model_pk)
    version = get_object_or_404(model.versions.all(), pk=pk)
    version.model = model  # the scoped, select_related copy: no second fetch
    return version


def model_metric_history(*, model: AIModel) -> QuerySet[EvaluationMetric]:
    """Every evaluation metric of the model's versions, by metric then date."""
    return (
        EvaluationMetric.objects.filter(version__model=model)
        .select_related("version")
        .order_by("name", "measured_on", "version__version", "pk")
    )


def model_monitoring_history(
    *, model: AIModel, limit: int = MONITORING_HISTORY_LIMIT
) -> QuerySet[MonitoringReport]:
    """The newest ``limit`` monitoring reports of the model's versions."""
    return (
        MonitoringReport.objects.filter(version__model=model)
        .select_related("version", "reported_by")
        .order_by("-reported_at", "-pk")[:limit]
    )


def model_consumer_units(*, model: AIModel) -> QuerySet[BusinessUnit]:
    """The business units whose initiatives the model serves (all of them: which units share
    a model is inventory metadata, while the initiatives themselves stay scoped)."""
    return (
        BusinessUnit.objects.filter(initiatives__ai_models=model)
        .distinct()
        .only("pk", "name", "code")
        .order_by("name")
    )


def overdue_review_list(*, user, today=None) -> QuerySet[ModelVersion]:
    """Approved and production versions of visible models whose review is overdue, the
    longest overdue first."""
    return (
        ModelVersion.objects.filter(
            review_overdue_condition(today=today),
            model__in=scope_models(AIModel.objects.all(), user).values("pk"),
        )
        .select_related("model__business_unit", "model__owner")
        .order_by("next_review_due", "pk")
    )


def vendor_register_list(*, user) -> QuerySet[Vendor]:
    """The vendor register (a catalogue every signed-in user may read), with the number of
    products and of the models the user can see that use each vendor."""
    if not user.is_authenticated:
        return Vendor.objects.none()
    visible_models = (
        scope_models(AIModel.objects.filter(vendor=OuterRef("pk")), user)
        .order_by()
        .values("vendor")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Vendor.objects.annotate(
        product_count=Count("products", distinct=True),
        model_count=Coalesce(Subquery(visible_models, output_field=IntegerField()), Value(0)),
    ).order_by("name", "pk")


def vendor_register_get(*, user, pk) -> Vendor:
    return get_object_or_404(vendor_register_list(user=user), pk=pk)


def vendor_product_get(*, user, vendor_pk, pk) -> VendorProduct:
    """A product of the vendor ``vendor_pk``, fetched through that vendor: 404 if the user
    cannot see the vendor or the product is another vendor's."""
    vendor = vendor_register_get(user=user, pk=vendor_pk)
    return get_object_or_404(vendor.products.all(), pk=pk)  # product.vendor is ``vendor``


def vendor_models(*, user, vendor: Vendor) -> QuerySet[AIModel]:
    """The models that use ``vendor``, restricted to those the user may see, each with the
    initiatives it serves that the user may see (``visible_initiatives``)."""
    served = Prefetch(
        "initiatives",
        queryset=scope_initiatives(
            Initiative.objects.select_related("business_unit").order_by("reference"), user
        ),
        to_attr="visible_initiatives",
    )
    return scope_models(
        AIModel.objects.filter(vendor=vendor)
        .select_related("business_unit", "vendor_product")
        .prefetch_related(served)
        .order_by("name", "pk"),
        user,
    )


def model_initiatives(*, user, model: AIModel) -> QuerySet[Initiative]:
    """The initiatives a model serves, restricted to those the user may see."""
    return scope_initiatives(
        model.initiatives.select_related("business_unit").order_by("reference"), user
    )


def drifting_versions(*, initiative) -> list[str]:
    """Names of the production versions of models serving ``initiative`` that report drift."""
    rows = ModelVersion.objects.filter(
        drifting_condition(), model__initiatives=initiative
    ).select_related("model")
    return [str(version) for version in rows.order_by("model__name", "version")]


def model_version_list(*, user) -> QuerySet[ModelVersion]:
    return (
        ModelVersion.objects.filter(model__in=scope_models(AIModel.objects.all(), user))
        .select_related("model")
        .order_by("-created_at", "-pk")
    )


def model_version_get(*, user, pk) -> ModelVersion:
    """One version the user may see (404 otherwise), with its evaluation metrics prefetched
    and its latest ``MONITORING_HISTORY_LIMIT`` monitoring reports in
    ``recent_monitoring_reports``."""
    recent_reports = MonitoringReport.objects.select_related("reported_by").order_by(
        "-reported_at", "-id"
    )[:MONITORING_HISTORY_LIMIT]
    return get_object_or_404(
        model_version_list(user=user).prefetch_related(
            "metrics",
            Prefetch(
                "monitoring_reports", queryset=recent_reports, to_attr="recent_monitoring_reports"
            ),
        ),
        pk=pk,
    )
