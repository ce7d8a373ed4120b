"""factory_boy factories for the domain core. Build rows directly (fixtures for tests);
behaviour under test always goes through services."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from core.choices import Role
from core.models import BusinessUnit, Membership
from inventory.gpu.choices import AllocationPurpose, PoolKind, PricingModel, Provider
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.registry.choices import ModelType
from inventory.registry.models import AIModel, Vendor
from portfolio.initiatives.models import Initiative, format_reference

PASSWORD = "keel-test-password"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def persist_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class BusinessUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessUnit
        django_get_or_create = ["code"]

    name = factory.Sequence(lambda n: f"Business unit {n}")
    code = factory.Sequence(lambda n: f"BU{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    business_unit = factory.SubFactory(BusinessUnitFactory)
    role = Role.BU_MEMBER


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    reference = factory.Sequence(lambda n: format_reference(90000 + n))
    title = factory.Sequence(lambda n: f"Initiative {n}")
    purpose = "Reduce handling time with machine learning."
    business_unit = factory.SubFactory(BusinessUnitFactory)
    accountable_owner = factory.SubFactory(UserFactory)


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Vendor {n}")


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel

    name = factory.Sequence(lambda n: f"model-{n}")
    model_type = ModelType.CLASSICAL_ML
    business_unit = factory.SubFactory(BusinessUnitFactory)
    owner = factory.SubFactory(UserFactory)


class GPUTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GPUType
        django_get_or_create = ["name"]

    name = "H100 80GB"
    memory_gb = 80
    reference_hourly_price = Decimal("3.00")


class GPUPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GPUPool

    name = factory.Sequence(lambda n: f"pool-{n}")
    kind = PoolKind.KUBERNETES
    provider = Provider.AWS
    region = "eu-west-1"
    gpu_type = factory.SubFactory(GPUTypeFactory)
    gpu_count = 16
    pricing_model = PricingModel.ON_DEMAND
    hourly_rate = Decimal("3.50")


class GPUAllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GPUAllocation

    pool = factory.SubFactory(GPUPoolFactory)
    gpu_count = Decimal("1")
    business_unit = factory.SubFactory(BusinessUnitFactory)
    initiative = None
    purpose = AllocationPurpose.TRAINING
    starts_on = factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=3))


def member(role=Role.BU_MEMBER, business_unit=None, **user_kwargs):
    """A user holding ``role`` in ``business_unit`` (a new unit when None)."""
    user = UserFactory(**user_kwargs)
    MembershipFactory(user=user, business_unit=business_unit or BusinessUnitFactory(), role=role)
    return user
