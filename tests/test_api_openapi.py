"""The OpenAPI schema loads and tells the truth about the error responses of every operation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_openapi_schema_loads_with_every_resource(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert {"/api/me", "/api/conversations", "/api/contacts", "/api/inboxes"} <= set(schema["paths"])
    assert set(schema["components"]["securitySchemes"]) == {"TokenAuth", "SessionAuth"}


def test_every_operation_declares_its_error_responses(client):
    schema = client.get("/api/openapi.json").json()

    operations = list(_operations(schema))
    assert len(operations) == 17  # + merge, split, undo, verifications (issue 7)
    for path, method, operation in operations:
        declared = set(operation["responses"])
        assert {"400", "401", "403", "422"} <= declared, (method, path)
        if "{" in path:
            assert "404" in declared, (method, path)
        assert operation.get("security"), (method, path)


def test_interactive_docs_are_served(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content
