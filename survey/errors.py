"""Domain exceptions, turned into 4xx answers with a reason (HTML for pages, JSON for /api)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400

    def __init__(
        self, detail: str, extra: dict[str, Any] | None = None, *, status_code: int | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code


class BadRequest(DomainError):
    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422


class Forbidden(DomainError):
    status_code = 403


class Gone(DomainError):
    status_code = 410


class TooManyRequests(DomainError):
    """`extra["retry_after"]`: seconds, sent as the Retry-After header."""

    status_code = 429
