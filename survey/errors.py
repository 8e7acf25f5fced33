"""Domain exceptions, turned into 4xx answers with a reason (HTML for pages, JSON for /api)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


class DomainError(Exception):
    """`msgid` and `params` (set by `refuse`): the reason as a message id and its
    particulars, for pages that show it in their language; `translate` names the params that
    are texts of ours (field names, rules) rather than what the user typed."""

    status_code = 400
    msgid: str | None = None
    params: dict[str, Any] = {}  # noqa: RUF012 (replaced, never changed in place)
    translate: tuple[str, ...] = ()

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


def refuse(
    kind: type[DomainError], msgid: str, *, translate: tuple[str, ...] = (), **params: Any
) -> DomainError:
    """A refusal whose English text names the particulars; pages translate `msgid` and fill
    in the same `params` (those named in `translate` translated too)."""
    exc = worded(kind, msgid % params if params else msgid, msgid, translate=translate, **params)
    exc.extra = {k: str(v) for k, v in params.items()}
    return exc


def worded(
    kind: type[DomainError],
    detail: str,
    msgid: str,
    *,
    translate: tuple[str, ...] = (),
    **params: Any,
) -> DomainError:
    """A refusal with its English `detail` as the API gives it, and `msgid` and `params` for
    the pages, which say it in their language (`in_words`)."""
    exc = kind(detail)
    exc.msgid = msgid
    exc.params = params
    exc.translate = translate
    return exc


NOT_ONE_OF = "%(field)s must be one of %(allowed)s; got %(got)s."
"""The refusal of a parameter outside its choices (marked in survey/dashboard/filters.py)."""


def not_one_of(detail: str, field: str, allowed: Sequence[str], got: str) -> DomainError:
    """400 for a parameter outside its `allowed` choices; `field` is a label of ours (its
    page's word for the parameter, translated) or the parameter's own name."""
    return worded(BadRequest, detail, NOT_ONE_OF, translate=("field",), field=field,
                  allowed=", ".join(allowed), got=repr(got[:40]))  # fmt: skip


def in_words(exc: DomainError, gettext: Callable[[str], str]) -> str:
    """The refusal's reason through `gettext`, with its particulars filled in."""
    if exc.msgid is None:
        return gettext(exc.detail)
    return gettext(exc.msgid) % {
        k: gettext(v) if k in exc.translate and isinstance(v, str) else v
        for k, v in exc.params.items()
    }
