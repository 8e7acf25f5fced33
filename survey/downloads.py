"""Files the app hands out (CSV, PDF, codebooks, exports): one place for their headers.

Every download is personal to the staff member or the office link that asked for it, so it
is never stored by a browser or a proxy (`no-store`)."""

from __future__ import annotations

from typing import Literal

from litestar import Response


def file_headers(
    name: str, disposition: Literal["attachment", "inline"] = "attachment"
) -> dict[str, str]:
    """Headers of a download named `name` (a name the app made, never one a user typed)."""
    return {
        "content-disposition": f'{disposition}; filename="{name}"',
        "cache-control": "no-store",
    }


def file_response(
    body: bytes,
    media_type: str,
    name: str,
    *,
    disposition: Literal["attachment", "inline"] = "attachment",
    status_code: int = 200,
) -> Response[bytes]:
    """A finished file as one response (a text/* type without its charset: Litestar adds
    "; charset=utf-8")."""
    return Response(
        body,
        media_type=media_type,
        status_code=status_code,
        headers=file_headers(name, disposition),
    )
