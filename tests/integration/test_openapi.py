"""The OpenAPI schema says what the API really takes and answers."""

from __future__ import annotations

from typing import Any

import httpx


async def _schema(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/schema/openapi.json")
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


async def test_it_documents_the_bearer_token_of_the_results_api(client: httpx.AsyncClient) -> None:
    schema = await _schema(client)
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        security = item["get"].get("security") if "get" in item else None
        if path.startswith("/api/v1/results"):
            assert security == [{"bearer": []}], path
            assert {"401", "403"} <= set(item["get"]["responses"]), path
    yaml = await client.get("/schema/openapi.yaml")
    assert "bearer" in yaml.text


async def test_it_documents_the_submission_body_and_its_error_answers(
    client: httpx.AsyncClient,
) -> None:
    schema = await _schema(client)
    post = schema["paths"]["/api/v1/responses"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert body["required"] == ["link", "submission_id", "answers"]
    assert body["additionalProperties"] is False
    assert {"201", "400", "404", "415", "422", "503"} <= set(post["responses"])


async def test_it_lists_the_fixed_values_of_query_parameters(client: httpx.AsyncClient) -> None:
    schema = await _schema(client)
    parameters = {
        p["name"]: p["schema"]
        for p in schema["paths"]["/api/v1/results/overview"]["get"]["parameters"]
    }
    assert parameters["mode"] == {"type": "string", "enum": ["personal", "kiosk", ""]}
    assert "case_management" in parameters["service_type"]["enum"]
    assert "-index" in parameters["sort"]["enum"]
    assert parameters["from"]["anyOf"][0] == {"type": "string", "format": "date"}
