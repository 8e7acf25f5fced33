"""Security headers on every answer, and an access log that never writes client addresses.

Requests of respondents (survey pages, kiosk, the respondent API) are not written to the
access log at all: a line with a link token and a timestamp would tell an office which
client answered when (the minute they left the room), and the dashboards never show more
than a month. Staff requests are logged with their path; an error on a respondent route is
logged by the app without the link token (see `loggable_path`).

`secure_asgi` wraps the whole application, not single routes: 404 and 405 answers (which
Litestar gives before any route middleware runs) carry the headers too, and a path with
control characters (`%00`, `%0a`) gets 404 before routing, so it can neither reach the
file system nor write a line of its own into the access log.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

access_log = logging.getLogger("resonanz.access")

RESPONDENT_PATHS = re.compile(r"^/(?:s|k)/|^/api/v1/(?:links/|responses\b)")
"""Routes a client uses while answering; their requests are never written to the access log."""
_TOKEN = re.compile(r"^/(s|k|api/v1/links)/[^/]+")


def is_respondent_path(path: str) -> bool:
    return RESPONDENT_PATHS.match(path) is not None


def loggable_path(path: str) -> str:
    """`path` with a link token replaced: /s/abc123/thanks -> /s/{token}/thanks."""
    return _TOKEN.sub(r"/\1/{token}", path)


CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; manifest-src 'self'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]
NO_STORE_PREFIXES = ("/api/v1/results",)
"""Staff data as JSON: never kept by a browser or proxy cache."""
API_PREFIX = "/api/"
"""Every other answer of the JSON API (users, links with their tokens, the audit log) is not
kept either, unless its route says how it may be (`no-store` when it says nothing)."""
JSON_PREFIXES = ("/api/", "/schema", "/healthz", "/readyz")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _headers(hsts_seconds: int) -> list[tuple[bytes, bytes]]:
    if not hsts_seconds:
        return list(_HEADERS)
    return [*_HEADERS, (b"strict-transport-security", f"max-age={hsts_seconds}".encode())]


_REFUSAL = "There is nothing at this address (it contains control characters)."


async def _refuse(send: Send, headers: list[tuple[bytes, bytes]], json: bool) -> None:
    """404: no page, file or link of ours has a control character in its address."""
    if json:
        body = b'{"status_code":404,"detail":"' + _REFUSAL.encode() + b'"}'
        media_type = b"application/json"
    else:
        body = _REFUSAL.encode() + b"\n"
        media_type = b"text/plain; charset=utf-8"
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 404,
        "headers": [
            (b"content-type", media_type),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *headers,
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


def secure_asgi(app: ASGIApp, hsts_seconds: int = 0) -> ASGIApp:
    headers = _headers(hsts_seconds)

    async def secured(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {}
        path: str = scope["path"]
        no_store = path.startswith(NO_STORE_PREFIXES)
        api = path.startswith(API_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                present = message.get("headers", [])
                if no_store:
                    present = [(k, v) for k, v in present if k.lower() != b"cache-control"]
                    present.append((b"cache-control", b"no-store"))
                names = {name.lower() for name, _ in present}
                if api and b"cache-control" not in names:
                    present = [*present, (b"cache-control", b"no-store")]
                message["headers"] = [*present, *((k, v) for k, v in headers if k not in names)]
            await send(message)

        try:
            if _CONTROL.search(path):
                status["code"] = 404
                await _refuse(send, headers, json=path.startswith(JSON_PREFIXES))
            else:
                await app(scope, receive, send_with_headers)
        finally:
            if access_log.isEnabledFor(logging.INFO) and not is_respondent_path(path):
                access_log.info(
                    '"%s %s" %s %.1fms',
                    scope["method"],
                    _CONTROL.sub("?", path),
                    status.get("code", "-"),
                    (time.perf_counter() - started) * 1000,
                )

    return secured
