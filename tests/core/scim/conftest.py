"""The directory: an administrator's read-and-write token, as an identity provider holds it."""

import pytest
from django.test import Client

from core import tokens
from core.choices import Role, TokenScope
from tests.factories import member


@pytest.fixture
def admin(unit_a):
    return member(Role.ADMIN, unit_a, username="idp-provisioning")


@pytest.fixture
def directory(admin):
    """The identity provider: a client with the admin's read-and-write token."""
    _, key = tokens.token_create(actor=admin, name="Entra ID", scope=TokenScope.READ_WRITE)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")
