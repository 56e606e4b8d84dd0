"""The OpenAPI document describes every resource agencies' systems may call."""

from __future__ import annotations

import pytest

from api_helpers import module_service
from service.app import create_app

HOUSEHOLD = "/api/v1/households/{household_id}"
DOCUMENTED = {
    "/api/v1/households": {"post"},
    HOUSEHOLD: {"get"},
    f"{HOUSEHOLD}/history": {"get"},
    f"{HOUSEHOLD}/members": {"post"},
    f"{HOUSEHOLD}/members/{{nik}}/correction": {"post"},
    f"{HOUSEHOLD}/members/{{nik}}/departure": {"post"},
    f"{HOUSEHOLD}/identification": {"post"},
    f"{HOUSEHOLD}/kk-change": {"post"},
    f"{HOUSEHOLD}/categorisations": {"post"},
    f"{HOUSEHOLD}/interventions": {"post"},
    f"{HOUSEHOLD}/interventions/{{intervention_id}}/delivery": {"post"},
    f"{HOUSEHOLD}/interventions/{{intervention_id}}/cancellation": {"post"},
    f"{HOUSEHOLD}/follow-ups": {"post"},
    f"{HOUSEHOLD}/follow-ups/{{follow_up_id}}/completion": {"post"},
    f"{HOUSEHOLD}/follow-ups/{{follow_up_id}}/rescheduling": {"post"},
    f"{HOUSEHOLD}/follow-ups/{{follow_up_id}}/cancellation": {"post"},
    f"{HOUSEHOLD}/graduation": {"post"},
    f"{HOUSEHOLD}/closure": {"post"},
    f"{HOUSEHOLD}/reopening": {"post"},
    "/api/v1/reference/regions": {"get"},
    "/api/v1/reference/programmes": {"get"},
}


@pytest.fixture(scope="module")
def spec():
    """Fetched once, without a token: the document is public and does not change."""
    with module_service() as service:
        response = create_app(service, {"TESTING": True}).test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_the_openapi_document_lists_every_household_and_reference_path_with_its_methods(spec):
    assert spec["openapi"].startswith("3.")
    for path, methods in DOCUMENTED.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), path


def test_the_openapi_document_has_the_contracts_schemas_in_components(spec):
    schemas = spec["components"]["schemas"]

    assert {"Registration", "Household", "Member", "Categorisation", "Intervention", "Delivery", "FollowUp", "Completion", "HistoryEntry", "Problem"} <= set(schemas)
    assert set(schemas["Registration"]["properties"]) == {"kk_number", "head", "address", "location", "members"}
    assert set(schemas["Intervention"]["required"]) == {"programme", "agency", "planned_on"}
    assert schemas["Categorisation"]["properties"]["category"]["enum"] == ["miskin_ekstrem", "miskin", "rentan", "tidak_miskin"]
    assert {"id", "version", "kk_number", "status", "head", "members", "address", "location", "category", "categorisations", "interventions", "follow_ups"} <= set(schemas["Household"]["properties"])


def test_every_change_documents_if_match_its_etag_and_its_problem_answers(spec):
    for path, methods in DOCUMENTED.items():
        if "post" not in methods or path == "/api/v1/households":
            continue
        operation = spec["paths"][path]["post"]
        assert {"name": "If-Match", "in": "header"}.items() <= operation["parameters"][0].items(), path
        success = next(status for status in operation["responses"] if status.startswith("2"))
        assert "ETag" in operation["responses"][success]["headers"], path
        assert {"403", "404", "409", "422"} <= set(operation["responses"]), path
        assert operation["summary"], path


def test_the_document_declares_bearer_authentication(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]
