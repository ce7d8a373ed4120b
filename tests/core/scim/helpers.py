"""Requests to ``/scim/v2/`` as a directory makes them, and the checks every test shares."""

import json
import uuid

from django.contrib.auth import get_user_model
from django.test import Client

from core import tokens
from core.models import (
    ScimIdentity,
    UserSession,
)
from tests.core.scim.payloads import (
    ERROR,
    SCIM,
)


def call(client, method: str, path: str, body=None, **extra):
    """A SCIM request; ``body`` a dict or the publisher's JSON text as is."""
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    kwargs = {"content_type": SCIM} if body is not None else {}
    return getattr(client, method)(f"/scim/v2/{path}", *([body] if body else []), **kwargs, **extra)


def scim_error(response, status: int, scim_type: str = "") -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == SCIM
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    assert body.get("scimType", "") == scim_type
    return body


def give_id(username: str, scim_id: str) -> None:
    """The id a publisher's body names, given to the person it means."""
    user = get_user_model().objects.get(username=username)
    ScimIdentity.objects.update_or_create(user=user, defaults={"scim_id": uuid.UUID(scim_id)})


def create(directory, body) -> dict:
    response = call(directory, "post", "Users", body)
    assert response.status_code == 201, response.content
    return response.json()


def signed_in_with_a_token(username: str):
    """The person's browser session and an API token of theirs (both must die)."""
    person = get_user_model().objects.get(username=username)
    browser = Client()
    browser.force_login(person)
    assert UserSession.objects.filter(user=person).count() == 1
    _, key = tokens.token_create(actor=person, name="laptop")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/initiatives/").status_code == 200
    return person, browser, api
