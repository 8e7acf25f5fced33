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
from survey.export import microdata
from survey.export.kanon import OTHER_LANGUAGE
from survey.export.schemas import FORMATS, Codebook
from survey.i18n import RESPOND_LOCALES
from survey.manage import schemas as manage_schemas
from survey.questionnaire import MODES, SERVICE_TYPES
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
    "410": "The link was switched off (answers from pages served before are still taken)",
    "429": "Too many submissions from this address or for this link; retry after Retry-After",
    "503": "The database cannot store right now; retry after the Retry-After seconds",
}
_PRINT_ERRORS = ["400", "401", "403", "404"]
_FIXED_VALUES: dict[str, list[str]] = {
    "service_type": list(SERVICE_TYPES),
    "language": list(LOCALES),
    "mode": ["personal", "kiosk"],
    "sort": [p + key for key in SORTS for p in ("", "-")],
    "level": ["office", "organization"],
}
_DATES = {"from", "to"}
_ERRORS_BY_ROUTE: dict[tuple[str, str], list[str]] = {
    ("post", "/api/v1/responses"): [
        "400",
        "403",
        "404",
        "409",
        "410",
        "413",
        "415",
        "422",
        "429",
        "503",
    ],
    ("get", "/api/v1/links/{token}/questionnaire"): ["404", "410", "503"],
    ("get", "/api/v1/links/{token}/poster.pdf"): _PRINT_ERRORS,
    ("get", "/api/v1/links/{token}/poster.svg"): _PRINT_ERRORS,
    ("get", "/api/v1/links/{token}/slips.pdf"): _PRINT_ERRORS,
    ("post", "/api/v1/links/{token}/code-slips.pdf"): _PRINT_ERRORS,
}
_RESULTS_ERRORS = ["400", "401", "403", "404", "503"]
_EXPORT_ERRORS = ["400", "401", "403"]
_EXPORT_VALUES: dict[str, list[str]] = {  # "" is "not given", as a form sends it
    "format": [*FORMATS, ""],
    "service_type": [*SERVICE_TYPES, ""],
    "language": [*RESPOND_LOCALES, OTHER_LANGUAGE, ""],
    "mode": [*MODES, ""],
    "labels": ["de", "en", ""],
    "sep": ["comma", "semicolon", ",", ";", ""],
    "as": ["json", "md", ""],
}
_EXPORT_PATTERNS = {
    "from": microdata.MONTH_PATTERN,
    "to": microdata.MONTH_PATTERN,
    "office": "^[0-9]{1,9}$",
    "jobcentre": "^[0-9]{1,9}$",
}
_BINARY = {"type": "string", "format": "binary"}
_EXPORT_FILES = {
    "/api/v1/exports/responses": {
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.apache.parquet": {"schema": _BINARY},
        "application/x-spss-sav": {"schema": _BINARY},
        "application/x-stata-dta": {"schema": _BINARY},
    },
    "/api/v1/exports/codebook": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ExportCodebook"}},
        "text/markdown": {"schema": {"type": "string"}},
    },
    "/api/v1/exports/comments": {"text/csv": {"schema": {"type": "string"}}},
}
_DOWNLOAD_HEADERS = {
    "content-disposition": {
        "description": "attachment; filename=...",
        "schema": {"type": "string"},
    },
}
_ROWS_HEADER = {
    "x-resonanz-rows": {
        "description": "Rows in the file (after the anonymization)",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}


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


def _request_bodies() -> dict[str, Any]:
    """The administration API's bodies as msgspec validates them: unknown fields refused,
    constraints of list items kept (Litestar's own schema drops both)."""
    strict = [
        obj
        for obj in vars(manage_schemas).values()
        if isinstance(obj, type)
        and issubclass(obj, manage_schemas.Strict)
        and obj is not manage_schemas.Strict
    ]
    _, found = msgspec.json.schema_components(strict, ref_template="#/components/schemas/{name}")
    for body in found.values():
        body.pop("title", None)
    return found


def _codebook_schemas() -> dict[str, Any]:
    _, found = msgspec.json.schema_components(
        [Codebook], ref_template="#/components/schemas/Export{name}"
    )
    return {f"Export{name}": body for name, body in found.items()}


def _export_operation(path: str, operation: dict[str, Any]) -> None:
    operation["security"] = [{BEARER: []}]
    ok = operation["responses"].get("200", {})
    ok["content"] = _EXPORT_FILES[path]
    ok["headers"] = _DOWNLOAD_HEADERS | (_ROWS_HEADER if path.endswith("/responses") else {})
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter.get("in") != "query":
            continue
        if name in _EXPORT_VALUES:
            parameter["schema"] = {"type": "string", "enum": _EXPORT_VALUES[name]}
        elif name in _EXPORT_PATTERNS:
            parameter["schema"] = {
                "anyOf": [{"type": "string", "pattern": _EXPORT_PATTERNS[name]}, {"const": ""}]
            }


def _optional_pattern(parameter: dict[str, Any]) -> None:
    """`^(X)?$` as "X or empty" (schemathesis's coverage phase took `0` for a match of it)."""
    schema = parameter.get("schema", {})
    pattern = schema.get("pattern", "")
    if pattern.startswith("^(") and pattern.endswith(")?$"):
        rest = {k: v for k, v in schema.items() if k not in ("pattern", "type")}
        parameter["schema"] = {
            "anyOf": [{"type": "string", "pattern": f"^{pattern[2:-3]}$"}, {"const": ""}],
            **rest,
        }


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add security, the submission body, error answers and fixed values (once, in place)."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    if "ErrorAnswer" in schemas:
        return schema
    schemas["ErrorAnswer"] = _ERROR_SCHEMA
    schemas["SubmissionIn"] = _submission_schema()
    schemas.update(_request_bodies())
    schemas.update(_codebook_schemas())
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
            if path.startswith("/api/v1/exports"):
                _export_operation(path, operation)
                errors = _EXPORT_ERRORS
            if "requestBody" in operation and "413" not in operation["responses"]:
                errors = [*errors, "413"]
            if "{" in path and "404" not in operation["responses"]:
                operation["responses"]["404"] = {
                    "description": "No such path (an id that is not a whole number)",
                    "content": {"application/json": {"schema": _ERROR}},
                }
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
                _optional_pattern(parameter)
                # an empty value means "not given" (a form's empty select sends it)
                if name in _FIXED_VALUES and path.startswith("/api/v1/results"):
                    parameter["schema"] = {"type": "string", "enum": [*_FIXED_VALUES[name], ""]}
                elif name in _DATES and path.startswith("/api/v1/results"):
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
