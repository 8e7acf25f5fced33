"""JSON request bodies held to their schema exactly.

Litestar converts a decoded body into its struct in msgspec's lax mode, which also takes
`0` for `false` or `"5"` for `5`: values the OpenAPI schema (survey/openapi.py) declares
invalid. `check_strictly` decodes the body once more in strict mode and refuses what the
schema refuses. Called after the credentials are checked, so a client without them still
gets 401 first.

One thing strict mode refuses that the schema allows: JSON Schema counts a number with a
zero fraction (`20.0`, as pandas or `json.dumps` of a float write it) as an integer, so such
numbers are taken as the integers they are.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, get_args, get_origin

import msgspec
from litestar import Request

from survey.errors import BadRequest

CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
"""The characters no text sent to the app may hold (a regex class): the C0 and C1 controls
but tab, line feed and carriage return (which a text area sends). NUL among them, which
PostgreSQL refuses in text."""
CONTROL = re.compile(f"[{CONTROLS}]")


def _body_type(request: Request[Any, Any, Any]) -> Any:
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    annotation = field.annotation
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _whole_numbers(value: Any) -> Any:
    """`value` with every float that has a zero fraction as an int (floats stay valid where
    the schema says `number`: strict mode takes an int for a float)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    return value


def _control_at(value: Any, path: str) -> str | None:
    """The path of the first string value with a control character, if any (every string
    field of the administration API declares the same in its schema's pattern)."""
    if isinstance(value, str):
        return path if CONTROL.search(value) else None
    if isinstance(value, list):
        for i, v in enumerate(value):
            if (found := _control_at(v, f"{path}[{i}]")) is not None:
                return found
    if isinstance(value, dict):
        for k, v in value.items():
            if (found := _control_at(v, f"{path}.{CONTROL.sub('?', str(k))}")) is not None:
                return found
    return None


async def check_strictly(request: Request[Any, Any, Any]) -> None:
    """400 for a body its handler's type refuses in strict mode; no body type: nothing."""
    kind = _body_type(request)
    if kind is None:
        return
    body = await request.body()
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise BadRequest("The body is not valid JSON.") from None
    where = _control_at(decoded, "$")
    if where is not None:
        raise BadRequest(
            f"The text at `{where}` holds a control character (such as a NUL byte), "
            "which no text may hold."
        )
    try:
        msgspec.convert(_whole_numbers(decoded), type=kind, strict=True)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"The body does not match its schema: {exc}") from None
