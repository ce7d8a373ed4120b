"""Editing a vendor's products: the edit page (linked from the vendor page for the register's
keepers), its service with its audit event, and PATCH/PUT in the vendor API. A product is
reached through its vendor: another vendor's product in the URL is 404."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEvent
from inventory.registry.models import VendorProduct
from tests.factories import VendorFactory

pytestmark = pytest.mark.django_db

KEEPERS = ["coe_reviewer", "platform_engineer"]
OTHERS = ["member_a", "member_b", "executive"]


def edit_url(vendor_pk, product_pk):
    return reverse("inventory:vendor_product_update", args=[vendor_pk, product_pk])


def api_url(vendor, product):
    return f"/api/v1/vendors/{vendor.pk}/products/{product.pk}/"


@pytest.fixture
def acme(db):
    return VendorFactory(name="Acme AI")


@pytest.fixture
def chat(acme):
    return VendorProduct.objects.create(
        vendor=acme, name="Acme Chat", kind="saas_ai", description="A chat assistant."
    )


def row(product) -> dict:
    return VendorProduct.objects.values("vendor", "name", "kind", "description").get(pk=product.pk)


# --- Edit page -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", KEEPERS)
def test_keeper_edits_a_product_with_one_audit_event(client, request, persona, acme, chat):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    address = edit_url(acme.pk, chat.pk)
    page = client.get(address)
    assert page.status_code == 200
    assert page.context["product"] == chat and page.context["form"].instance.pk == chat.pk
    response = client.post(
        address, {"name": "Acme Chat Pro", "kind": "foundation_api", "description": ""}
    )
    assert response.status_code == 302 and response["Location"] == acme.get_absolute_url()
    assert row(chat) == {
        "vendor": acme.pk,
        "name": "Acme Chat Pro",
        "kind": "foundation_api",
        "description": "",
    }
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_id, event.object_id) == (
        "vendor_product.updated",
        user.pk,
        str(chat.pk),
    )
    assert "Product Acme Chat Pro saved." in client.get(response["Location"]).content.decode()


def test_keeping_the_name_is_not_a_duplicate(client, coe_reviewer, acme, chat):
    client.force_login(coe_reviewer)
    response = client.post(
        edit_url(acme.pk, chat.pk),
        {"name": "Acme Chat", "kind": "saas_ai", "description": "Now with search."},
    )
    assert response.status_code == 302
    assert row(chat)["description"] == "Now with search."
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["vendor_product.updated"]


@pytest.mark.parametrize("persona", OTHERS)
def test_edit_is_403_without_the_role(client, request, persona, acme, chat):
    client.force_login(request.getfixturevalue(persona))
    before = row(chat)
    address = edit_url(acme.pk, chat.pk)
    assert client.get(address).status_code == 403
    response = client.post(address, {"name": "Hijacked", "kind": "saas_ai"})
    assert response.status_code == 403
    assert row(chat) == before
    assert not AuditEvent.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, acme, chat):
    response = client.get(edit_url(acme.pk, chat.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_another_vendors_product_is_404(client, coe_reviewer, acme, chat):
    globex = VendorFactory(name="Globex")
    client.force_login(coe_reviewer)
    before = row(chat)
    assert client.get(edit_url(globex.pk, chat.pk)).status_code == 404
    response = client.post(edit_url(globex.pk, chat.pk), {"name": "Moved", "kind": "saas_ai"})
    assert response.status_code == 404
    assert client.get(edit_url(999999, chat.pk)).status_code == 404
    assert client.get(edit_url(acme.pk, 999999)).status_code == 404
    assert row(chat) == before and not AuditEvent.objects.exists()


def test_invalid_input_shows_field_errors(client, coe_reviewer, acme, chat):
    VendorProduct.objects.create(vendor=acme, name="Acme Vision", kind="saas_ai")
    client.force_login(coe_reviewer)
    address = edit_url(acme.pk, chat.pk)
    before = row(chat)

    response = client.post(address, {"name": "", "kind": "nonsense"})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"name", "kind"}
    assert response.context["product"].name == "Acme Chat"  # the heading shows the stored row

    response = client.post(address, {"name": "Acme Vision", "kind": "saas_ai"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["Acme AI already has a product Acme Vision."]
    assert "already has a product" in response.content.decode()
    assert row(chat) == before and not AuditEvent.objects.exists()


def test_edit_form_carries_a_csrf_token(coe_reviewer, acme, chat):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coe_reviewer)
    address = edit_url(acme.pk, chat.pk)
    page = client.get(address)
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    # Without the token the POST is refused and nothing changes.
    response = client.post(address, {"name": "Forged", "kind": "saas_ai"})
    assert response.status_code == 403
    assert row(chat)["name"] == "Acme Chat" and not AuditEvent.objects.exists()
    token = page.context["csrf_token"]
    response = client.post(
        address, {"name": "Acme Chat", "kind": "saas_ai", "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302


def test_vendor_page_links_edit_for_keepers_only(client, member_a, coe_reviewer, acme, chat):
    address = edit_url(acme.pk, chat.pk)
    client.force_login(member_a)
    assert address not in client.get(acme.get_absolute_url()).content.decode()
    client.force_login(coe_reviewer)
    html = client.get(acme.get_absolute_url()).content.decode()
    assert f'href="{address}"' in html and ">Edit</a>" in html


# --- API -------------------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.parametrize("persona", KEEPERS)
def test_api_patch_and_put_edit_a_product(api, request, persona, acme, chat):
    api.force_authenticate(request.getfixturevalue(persona))
    response = api.patch(api_url(acme, chat), {"description": "Patched."}, format="json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("Acme Chat", "Patched.")
    response = api.put(
        api_url(acme, chat), {"name": "Acme Chat 2", "kind": "foundation_api"}, format="json"
    )
    assert response.status_code == 200
    assert row(chat) == {
        "vendor": acme.pk,
        "name": "Acme Chat 2",
        "kind": "foundation_api",
        "description": "Patched.",
    }
    assert list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True)) == [
        "vendor_product.updated",
        "vendor_product.updated",
    ]
    # PUT needs every required field.
    response = api.put(api_url(acme, chat), {"description": "Only this."}, format="json")
    assert response.status_code == 400 and {"name", "kind"} <= set(response.json())


@pytest.mark.parametrize(("persona", "expected"), [("member_a", 403), ("anonymous", 401)])
def test_api_edit_is_refused_without_the_role(api, request, persona, expected, acme, chat):
    if persona != "anonymous":
        api.force_authenticate(request.getfixturevalue(persona))
    before = row(chat)
    assert api.patch(api_url(acme, chat), {"name": "X"}, format="json").status_code == expected
    body = {"name": "X", "kind": "saas_ai"}
    assert api.put(api_url(acme, chat), body, format="json").status_code == expected
    assert row(chat) == before and not AuditEvent.objects.exists()


def test_api_another_vendors_product_is_404_and_duplicates_are_400(api, coe_reviewer, acme, chat):
    globex = VendorFactory(name="Globex")
    VendorProduct.objects.create(vendor=acme, name="Acme Vision", kind="saas_ai")
    api.force_authenticate(coe_reviewer)
    before = row(chat)
    response = api.patch(api_url(globex, chat), {"name": "Moved"}, format="json")
    assert response.status_code == 404
    response = api.patch(api_url(acme, chat), {"name": "Acme Vision"}, format="json")
    assert response.status_code == 400
    response = api.patch(api_url(acme, chat), {"kind": "nonsense"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()
    assert row(chat) == before and not AuditEvent.objects.exists()


def test_openapi_schema_lists_the_product_edit(client, member_a):
    client.force_login(member_a)
    paths = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()["paths"]
    edit = paths["/api/v1/vendors/{id}/products/{product_pk}/"]
    assert {"put", "patch"} <= set(edit)
    assert {"200", "400", "403", "404"} <= set(edit["patch"]["responses"])
