import re

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_schema_lists_the_endpoints(client, member_a):
    client.force_login(member_a)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for endpoint in (
        "/api/v1/initiatives/",
        "/api/v1/business-units/",
        "/api/v1/models/",
        "/api/v1/gpu-pools/",
        "/api/v1/gpu-allocations/",
        "/api/v1/initiatives/{id}/stage/",
    ):
        assert endpoint in paths


def test_docs_page_uses_only_vendored_assets(client, member_a):
    client.force_login(member_a)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the docs page should load its assets"
    assert all(not source.startswith(("http://", "https://", "//")) for source in sources)
    assert "swagger-ui" in html


def test_pages_send_a_strict_content_security_policy(client, member_a):
    client.force_login(member_a)
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
