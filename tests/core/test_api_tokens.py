"""Personal API tokens (issue 18, item 6): created with a name, expiry and scope, shown once and
stored hashed, listed with last use, revoked by their owner or a CoE admin; the API takes
``Authorization: Bearer``, refuses a read-only token on every unsafe method of the whole API
(the test walks the URL conf), answers 401 with the reason for an expired, revoked or unknown
token, and still takes DRF's ``Token <key>``."""

import datetime
import hashlib
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import tokens
from core.choices import Role, TokenScope
from core.exceptions import Conflict
from core.models import ApiToken, AuditEvent
from tests.factories import InitiativeFactory, member

UNSAFE = ("post", "put", "patch", "delete")
SAMPLES = {"month": "2026-01"}


@pytest.fixture
def alice(unit_a):
    return member(Role.BU_MEMBER, unit_a, username="alice")


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_create_shows_the_key_once_and_stores_only_its_hash(alice):
    token, key = tokens.token_create(actor=alice, name="nightly export", days=30)
    assert re.fullmatch(r"keel_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", key)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(stored.__dict__)
    assert stored.scope == TokenScope.READ and stored.prefix == key.split("_")[1]
    assert abs(stored.expires_at - (timezone.now() + datetime.timedelta(days=30))) < (
        datetime.timedelta(minutes=1)
    )
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.actor == alice and key not in event.payload and token.prefix in event.payload


def test_validation_errors_name_their_field(alice, settings):
    settings.KEEL_API_TOKEN_MAX_DAYS = 120
    with pytest.raises(ValidationError) as error:
        tokens.token_create(actor=alice, name="  ", days=121, scope="admin")
    assert set(error.value.message_dict) == {"name", "days", "scope"}
    assert error.value.message_dict["days"] == ["Between 1 and 120 days."]
    token, _ = tokens.token_create(actor=alice, name="default lifetime")
    assert (token.expires_at - timezone.now()).days in (89, 90)


def test_bearer_token_reads_as_its_user_and_records_last_use(alice, unit_a):
    InitiativeFactory(business_unit=unit_a, accountable_owner=alice)
    token, key = tokens.token_create(actor=alice, name="reader")
    response = bearer(key).get("/api/v1/initiatives/", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200 and response.json()["count"] == 1
    token.refresh_from_db()
    assert token.last_used_ip == "10.1.2.3" and token.last_used_at is not None


def api_paths():
    """Every URL of the API (``/api/v1/``), its arguments filled in: (path, name)."""
    found = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}:{entry.namespace}" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if route.startswith("api/v1/") and "format" not in entry.pattern.regex.groupindex:
                    found.append(route)

    walk(get_resolver().url_patterns, "", "")
    paths = set()
    for route in found:
        # router regex groups, with a value their regex accepts (months are 2026-01)
        path = re.sub(
            r"\(\?P<(\w+)>[^)]*\)",
            lambda group: SAMPLES.get(group.group(1), "1"),
            route,
        )
        path = re.sub(r"<(?:(\w+):)?(\w+)>", "1", path)  # path converters
        path = path.replace("^", "").replace("$", "").replace("\\", "")
        paths.add("/" + path)
    return sorted(paths)


def test_walk_finds_the_whole_api():
    paths = api_paths()
    assert len(paths) > 60
    assert "/api/v1/initiatives/" in paths and "/api/v1/initiatives/1/" in paths


def test_read_only_token_is_refused_on_every_unsafe_method_of_the_whole_api(alice):
    _, key = tokens.token_create(actor=alice, name="reader", scope=TokenScope.READ)
    client = bearer(key)
    answered = {}
    for path in api_paths():
        for method in UNSAFE:
            response = getattr(client, method)(path, {}, format="json")
            answered[(method, path)] = response.status_code
            if response.status_code == 403:
                assert "read-only" in response.json()["detail"]
    wrong = {call: status for call, status in answered.items() if status != 403}
    assert not wrong, wrong
    assert len(answered) == 4 * len(api_paths())


def test_read_write_token_may_change_what_its_user_may(alice, unit_a):
    _, key = tokens.token_create(actor=alice, name="writer", scope=TokenScope.READ_WRITE)
    response = bearer(key).post(
        "/api/v1/initiatives/",
        {"title": "Token-made", "business_unit": unit_a.pk, "accountable_owner": alice.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_expired_revoked_unknown_and_deactivated_tokens_get_401_with_the_reason(alice):
    token, key = tokens.token_create(actor=alice, name="soon gone", days=1)
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    expired = bearer(key).get("/api/v1/initiatives/")
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert expired["WWW-Authenticate"]

    token, key = tokens.token_create(actor=alice, name="revoked")
    tokens.token_revoke(actor=alice, token=token)
    revoked = bearer(key).get("/api/v1/initiatives/")
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]

    tampered = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert bearer(tampered).get("/api/v1/initiatives/").json()["detail"] == "Unknown API token."
    assert bearer("not-a-token").get("/api/v1/initiatives/").status_code == 401

    _, key = tokens.token_create(actor=alice, name="owner leaves")
    alice.is_active = False
    alice.save()
    gone = bearer(key).get("/api/v1/initiatives/")
    assert gone.status_code == 401 and "deactivated" in gone.json()["detail"]


def test_drf_token_still_works_during_the_deprecation(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
    assert client.get("/api/v1/initiatives/").status_code == 200


def test_revoke_by_owner_or_coe_admin_only_and_once(alice, unit_a, coe_admin):
    other = member(Role.BU_MEMBER, unit_a, username="bob")
    token, _ = tokens.token_create(actor=alice, name="mine")
    with pytest.raises(PermissionDenied):
        tokens.token_revoke(actor=other, token=token)
    tokens.token_revoke(actor=coe_admin, token=token)
    token.refresh_from_db()
    assert token.revoked_by == coe_admin and token.state(timezone.now()) == "revoked"
    with pytest.raises(Conflict):
        tokens.token_revoke(actor=alice, token=token)
    assert AuditEvent.objects.filter(action="api_token.revoked", actor=coe_admin).count() == 1
    with pytest.raises(PermissionDenied):
        tokens.all_tokens(actor=alice)


# --- pages --------------------------------------------------------------------------------


def test_page_creates_shows_once_lists_and_revokes(client, alice):
    client.force_login(alice)
    page = client.get(reverse("core:api_tokens"))
    assert page.status_code == 200 and 'name="csrfmiddlewaretoken"' in page.content.decode()
    created = client.post(
        reverse("core:api_tokens"), {"name": "laptop", "days": 30, "scope": "read"}
    )
    assert created.status_code == 201 and created["Cache-Control"] == "no-store"
    body = created.content.decode()
    key = re.search(r'value="(keel_[^"]+)"', body).group(1)
    assert bearer(key).get("/api/v1/initiatives/").status_code == 200
    again = client.get(reverse("core:api_tokens")).content.decode()
    assert key not in again and "laptop" in again  # listed, never shown again
    token = ApiToken.objects.get(name="laptop")
    response = client.post(reverse("core:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_page_field_errors(client, alice, settings):
    settings.KEEL_API_TOKEN_MAX_DAYS = 30
    client.force_login(alice)
    response = client.post(reverse("core:api_tokens"), {"name": "", "days": 31, "scope": "read"})
    body = response.content.decode()
    assert response.status_code == 200 and "Please correct the errors below." in body
    assert "This field is required." in body
    assert "less than or equal to 30" in body
    assert not ApiToken.objects.exists()


def test_someone_elses_token_is_not_found_for_a_member(client, alice, unit_a):
    other = member(Role.BU_MEMBER, unit_a, username="bob")
    token, _ = tokens.token_create(actor=other, name="bob's")
    client.force_login(alice)
    assert client.post(reverse("core:api_token_revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("core:api_tokens_all")).status_code == 403


def test_admin_sees_and_searches_everyones_tokens_in_constant_queries(
    client, coe_admin, unit_a, django_assert_max_num_queries
):
    people = [member(Role.BU_MEMBER, unit_a, username=f"user{n}") for n in range(3)]
    for person in people:
        tokens.token_create(actor=person, name=f"{person.username} script")
    client.force_login(coe_admin)
    url = reverse("core:api_tokens_all")
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    for n in range(3, 15):
        tokens.token_create(actor=member(Role.BU_MEMBER, unit_a, username=f"user{n}"), name="x")
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(url).content.decode()
    assert "user14" in body
    found = client.get(url, {"q": "user2 script"}).content.decode()
    assert "user2 script" in found and "user1 script" not in found


def test_own_token_list_queries_do_not_grow(client, alice, django_assert_max_num_queries):
    client.force_login(alice)
    tokens.token_create(actor=alice, name="one")
    url = reverse("core:api_tokens")
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for n in range(10):
        tokens.token_create(actor=alice, name=f"t{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
