"""Security headers on every answer, and an access log that never writes client addresses.

Requests of respondents (survey pages, kiosk, the respondent API) are not written to the
access log at all: a line with a link token and a timestamp would tell an office which
client answered when (the minute they left the room), and the dashboards never show more
than a month. Staff requests are logged with their path; an error on a respondent route is
logged by the app without the link token (see `loggable_path`).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


def security_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _HEADERS if k not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await app(scope, receive, send_with_headers)
        finally:
            if access_log.isEnabledFor(logging.INFO) and not is_respondent_path(scope["path"]):
                access_log.info(
                    '"%s %s" %s %.1fms',
                    scope["method"],
                    scope["path"],
                    status.get("code", "-"),
                    (time.perf_counter() - started) * 1000,
                )

    return middleware
