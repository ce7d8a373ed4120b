"""/initiatives/AI-0094/ resolves to the initiative, scoped like its page."""

from core.choices import Role
from tests.factories import InitiativeFactory, member


def test_reference_redirects_to_the_initiative(client, unit_a, django_assert_max_num_queries):
    initiative = InitiativeFactory(business_unit=unit_a, reference="AI-0094")
    client.force_login(member(Role.BU_MEMBER, unit_a))
    with django_assert_max_num_queries(6):
        response = client.get("/initiatives/AI-0094/")
    assert response.status_code == 302
    assert response["Location"] == f"/initiatives/{initiative.pk}/"
    assert client.get("/initiatives/AI-0094/", follow=True).context["initiative"] == initiative


def test_lower_case_and_sub_pages_with_their_query(client, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a, reference="AI-0094")
    client.force_login(member(Role.BU_MEMBER, unit_a))
    response = client.get("/initiatives/ai-0094/edit/?next=x")
    assert response["Location"] == f"/initiatives/{initiative.pk}/edit/?next=x"


def test_unknown_reference_is_404(client, unit_a):
    client.force_login(member(Role.BU_MEMBER, unit_a))
    assert client.get("/initiatives/AI-9999/").status_code == 404


def test_other_units_initiative_is_the_same_404(client, unit_a, unit_b):
    InitiativeFactory(business_unit=unit_b, reference="AI-0123")
    client.force_login(member(Role.BU_MEMBER, unit_a))
    assert client.get("/initiatives/AI-0123/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, unit_a):
    InitiativeFactory(business_unit=unit_a, reference="AI-0094")
    response = client.get("/initiatives/AI-0094/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
