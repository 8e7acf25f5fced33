"""The OpenAPI schema says what the API really takes and answers."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ONE_ENGINE

pytestmark = ONE_ENGINE  # the schema Litestar generates: no query (docs/testing.md)


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


async def test_it_documents_the_export_files_parameters_and_errors(
    client: httpx.AsyncClient,
) -> None:
    schema = await _schema(client)
    get = schema["paths"]["/api/v1/exports/responses"]["get"]
    assert set(get["responses"]["200"]["content"]) == {
        "text/csv", "application/vnd.apache.parquet", "application/x-spss-sav",
        "application/x-stata-dta",
    }  # fmt: skip
    assert get["security"] == [{"bearer": []}]
    assert {"400", "401", "403"} <= set(get["responses"])
    parameters = {p["name"]: p["schema"] for p in get["parameters"]}
    assert parameters["format"]["enum"] == ["csv", "parquet", "sav", "dta", ""]
    assert parameters["from"]["anyOf"][0]["pattern"].startswith("^(20")
    book = schema["paths"]["/api/v1/exports/codebook"]["get"]["responses"]["200"]["content"]
    assert book["application/json"]["schema"]["$ref"].endswith("/ExportCodebook")
    assert "text/markdown" in book


async def test_administration_bodies_refuse_unknown_fields_and_loose_types(
    client: httpx.AsyncClient,
) -> None:
    """The schema says `additionalProperties: false` and `boolean`, and the API holds to it:
    msgspec's lax conversion took `0` for false before bodies were checked strictly."""
    import datetime as dt

    from survey.auth.guard import hash_token
    from survey.tables import ApiToken, Office
    from tests.builders import make_office, make_organization, make_staff_user

    schema = await _schema(client)
    components = schema["components"]["schemas"]
    assert components["OfficePatch"]["additionalProperties"] is False
    ids = components["TokenIn"]["properties"]["organization_ids"]
    assert ids["items"]["minimum"] == 1
    org = await make_organization()
    office = await make_office(organization=org)
    user = await make_staff_user("admin", "correct-horse-battery", "admin", organization=org)
    token = "rz_test_" + "a" * 30
    await ApiToken(user=user, name="t", token_hash=hash_token(token),
                   created_at=dt.datetime.now(dt.UTC)).save()  # fmt: skip
    bearer = {"authorization": f"Bearer {token}"}
    url = f"/api/v1/offices/{office}"
    # without credentials: 401 before the body is looked at
    assert (await client.patch(url, json={"active": 0})).status_code == 401
    for body in ({"active": 0}, {"active": "false"}, {"name": "x", "colour": "red"}):
        answer = await client.patch(url, json=body, headers=bearer)
        assert answer.status_code == 400, (body, answer.text)
    assert (await Office.select(Office.active).where(Office.id == office))[0]["active"]
    answer = await client.patch(url, json={"active": False}, headers=bearer)
    assert answer.status_code == 204, answer.text
    allow = await client.options("/api/v1/links")
    assert set(allow.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}


async def test_a_whole_number_written_with_a_zero_fraction_is_an_integer(
    client: httpx.AsyncClient,
) -> None:
    """JSON Schema counts `20.0` as an integer (schemathesis sends it; pandas writes it):
    taken as 20; `20.5` and `"20"` are still refused, and nothing is stored for them."""
    import datetime as dt

    from survey.auth.guard import hash_token
    from survey.tables import ApiToken, Organization
    from tests.builders import make_organization, make_staff_user

    org = await make_organization()
    user = await make_staff_user("admin", "correct-horse-battery", "admin", organization=org)
    token = "rz_test_" + "b" * 30
    await ApiToken(user=user, name="t", token_hash=hash_token(token),
                   created_at=dt.datetime.now(dt.UTC)).save()  # fmt: skip
    bearer = {"authorization": f"Bearer {token}"}
    url = f"/api/v1/organizations/{org}"
    for body in ({"retention_months": 20.5}, {"retention_months": "20"}):
        answer = await client.patch(url, json=body, headers=bearer)
        assert answer.status_code == 400, (body, answer.text)
    answer = await client.patch(url, json={"retention_months": 20.0}, headers=bearer)
    assert answer.status_code == 204, answer.text
    stored = await Organization.select(Organization.retention_months).where(Organization.id == org)
    assert stored[0]["retention_months"] == 20
