"""What the generated OpenAPI schema cannot know, added where the schema is served.

Litestar derives the schema from handler signatures. It does not know that the results API
takes a Bearer token, that `POST /api/v1/responses` reads its JSON body itself (for its own
415 and 400 answers), which error answers each route gives, nor which fixed values a
free-text query parameter accepts. `complete` adds those to the schema once, before its
first rendering; `tests/integration/test_openapi.py` holds the schema to the running app
(schemathesis), so a parameter renamed in a handler shows up there.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin

from survey.dashboard.filters import LOCALES
from survey.dashboard.results import SORTS
from survey.questionnaire import SERVICE_TYPES
from survey.respond.schemas import SubmissionIn

BEARER = "bearer"
"""The scheme create_app declares (survey/app.py); the manage API names it too."""
_ERROR = {"$ref": "#/components/schemas/ErrorAnswer"}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["status_code", "detail"],
    "properties": {
        "status_code": {"type": "integer"},
        "detail": {"type": "string"},
        "extra": {},
    },
}
_REASONS = {
    "400": "The request is malformed or a parameter has a value not listed",
    "401": "No valid session or API token (unknown, revoked or expired, or its user locked)",
    "403": "The caller's role or scope does not include this",
    "404": "Unknown, or no longer active",
    "409": "This submission id was stored before with different answers",
    "413": "The body is larger than the limit",
    "415": "The body is not application/json",
    "422": "Some answers are invalid for this questionnaire",
    "503": "The database cannot store right now; retry after the Retry-After seconds",
}
_FIXED_VALUES: dict[str, list[str]] = {
    "service_type": list(SERVICE_TYPES),
    "language": list(LOCALES),
    "mode": ["personal", "kiosk"],
    "sort": [p + key for key in SORTS for p in ("", "-")],
    "level": ["office", "organization"],
}
_DATES = {"from", "to"}
_ERRORS_BY_ROUTE: dict[tuple[str, str], list[str]] = {
    ("post", "/api/v1/responses"): ["400", "404", "409", "413", "415", "422", "503"],
    ("get", "/api/v1/links/{token}/questionnaire"): ["404", "503"],
}
_RESULTS_ERRORS = ["400", "401", "403", "404", "503"]


def _submission_schema() -> dict[str, Any]:
    schema = msgspec.json.schema(SubmissionIn)
    body: dict[str, Any] = schema["$defs"]["SubmissionIn"]
    body["properties"]["answers"] = {
        "type": "object",
        "description": "Item code to answer: an integer for scale items, text for free text",
        "additionalProperties": {"type": ["integer", "string", "null"]},
    }
    body.pop("title", None)
    return body


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add security, the submission body, error answers and fixed values (once, in place)."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    if "ErrorAnswer" in schemas:
        return schema
    schemas["ErrorAnswer"] = _ERROR_SCHEMA
    schemas["SubmissionIn"] = _submission_schema()
    components.setdefault("securitySchemes", {}).setdefault(
        BEARER,
        {"type": "http", "scheme": "bearer", "description": "An API token (rz_...)"},
    )
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = _ERRORS_BY_ROUTE.get((method, path), [])
            if path.startswith("/api/v1/results"):
                operation["security"] = [{BEARER: []}]
                errors = _RESULTS_ERRORS
            for code in errors:
                operation["responses"].setdefault(
                    code,
                    {
                        "description": _REASONS[code],
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                )
            if (method, path) == ("post", "/api/v1/responses"):
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/SubmissionIn"}
                        }
                    },
                }
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                name = parameter["name"]
                # an empty value means "not given" (a form's empty select sends it)
                if name in _FIXED_VALUES and path.startswith("/api/v1/results"):
                    parameter["schema"] = {"type": "string", "enum": [*_FIXED_VALUES[name], ""]}
                elif name in _DATES:
                    parameter["schema"] = {
                        "anyOf": [{"type": "string", "format": "date"}, {"const": ""}]
                    }
    return schema


class JsonSchema(JsonRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, complete(openapi_schema))


class YamlSchema(YamlRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, complete(openapi_schema))
