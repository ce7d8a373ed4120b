import pytest

from core.choices import Role
from tests.factories import BusinessUnitFactory, member


@pytest.fixture
def unit_a(db):
    return BusinessUnitFactory(name="Retail Banking", code="RETAIL")


@pytest.fixture
def unit_b(db):
    return BusinessUnitFactory(name="Insurance", code="INSURE")


@pytest.fixture
def member_a(unit_a):
    return member(Role.BU_MEMBER, unit_a, username="alice")


@pytest.fixture
def member_b(unit_b):
    return member(Role.BU_MEMBER, unit_b, username="bob")


@pytest.fixture
def coe_reviewer(unit_a):
    return member(Role.COE_REVIEWER, unit_a, username="carol")


@pytest.fixture
def coe_admin(unit_a):
    return member(Role.COE_ADMIN, unit_a, username="dana")


@pytest.fixture
def executive(unit_a):
    return member(Role.EXECUTIVE, unit_a, username="erin")


@pytest.fixture
def platform_engineer(unit_a):
    return member(Role.PLATFORM_ENGINEER, unit_a, username="pete")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness costs seconds per test user; tests don't need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def dashboard_cache_off(settings):
    """Factories write rows without audit events, which the dashboard's cache key follows, so
    a cached dashboard of an earlier test could be served; tests read fresh figures unless
    they switch the cache on themselves (tests/governance/reporting/test_dashboard_figures.py)."""
    settings.KEEL_DASHBOARD_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def celery_runs_tasks_in_process():
    """Run tasks eagerly in ordinary tests, also when CI points Celery at Redis; the worker
    tests in tests/core/test_celery_worker.py switch this off and use a real worker."""
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous
