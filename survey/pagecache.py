"""Pages that are the same for every client of a link, rendered once per process.

The survey page of a link in one language differs between two clients only in a few fields
(the submission id, and the signed time the form was issued). It is rendered once with a
marker in each such field, cut at the markers, and kept: a view joins the kept parts with
its own values. The gzip form is kept in parts too: every fixed part is compressed on its
own (deflate, flushed to a byte boundary), every value goes in as an uncompressed (stored)
deflate block, and the pieces make one valid gzip stream; a view costs a join and a CRC-32.
Pages without per-view fields (the thank-you page) are kept whole, also in brotli.

Only what the template was given is kept: the key names everything the page depends on (the
link with its office, version and mode, the language, the kind of page). The cache holds at
most `max_pages` pages and forgets the least recently used. Nothing about a client is kept.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import brotli
from litestar import Litestar, Request
from litestar.response import Template
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)
from markupsafe import escape

from survey.compression import best_encoding

GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
"""gzip member header: deflate, no flags, no time, unknown OS (RFC 1952, 2.3)."""
HTML = "text/html; charset=utf-8"


def slot(name: str) -> str:
    """The marker a template gets in place of a per-view value."""
    return f"\x00slot:{name}:{_RUN}\x00"


_RUN = uuid.uuid4().hex
"""Markers differ between processes: nothing a client sends can forge one into a page."""


def _deflate(data: bytes, last: bool) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)


def _stored(data: bytes) -> bytes:
    """`data` as uncompressed deflate blocks, none of them the last (RFC 1951, 3.2.4)."""
    out = bytearray()
    for start in range(0, len(data), 0xFFFF):
        chunk = data[start : start + 0xFFFF]
        out += b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk
    return bytes(out)


@dataclass(frozen=True)
class CachedPage:
    fixed: tuple[bytes, ...]
    """The text around the per-view tags: one more part than slots."""
    tags: tuple[tuple[str, str, str], ...]
    """Per slot in page order: the text of its tag before the value, the slot's name, after."""
    packed: tuple[bytes, ...]
    """Each fixed part compressed on its own (raw deflate; the last one finished)."""
    status_code: int
    headers: Mapping[str, str]
    brotli: bytes | None
    """The whole page in brotli, for a page without slots."""
    raw_headers: tuple[tuple[bytes, bytes], ...]
    """`headers` with the content type and Vary, as ASGI sends them."""

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(name for _, name, _ in self.tags)

    def _views(self, values: Mapping[str, str]) -> list[bytes]:
        """The per-view tags with their values, escaped for HTML as the template would."""
        return [
            f"{before}{escape(values[name])}{after}".encode() for before, name, after in self.tags
        ]

    def _join(self, views: list[bytes]) -> bytes:
        pieces = [self.fixed[0]]
        for view, part in zip(views, self.fixed[1:], strict=True):
            pieces += (view, part)
        return b"".join(pieces)

    def body(self, values: Mapping[str, str]) -> bytes:
        return self._join(self._views(values))

    def gzip(self, values: Mapping[str, str]) -> bytes:
        views = self._views(values)
        pieces = [GZIP_HEADER, self.packed[0]]
        for view, packed in zip(views, self.packed[1:], strict=True):
            pieces += (_stored(view), packed)
        plain = self._join(views)
        pieces.append(struct.pack("<II", zlib.crc32(plain), len(plain) & 0xFFFFFFFF))
        return b"".join(pieces)

    def response(self, accept_encoding: str, values: Mapping[str, str]) -> RawResponse:
        offered = ("br", "gzip") if self.brotli is not None else ("gzip",)
        encoding = best_encoding(accept_encoding, offered)
        if encoding == "br" and self.brotli is not None:
            body = self.brotli
        elif encoding == "gzip":
            body = self.gzip(values)
        else:
            body = self.body(values)
        headers = [*self.raw_headers, (b"content-length", str(len(body)).encode())]
        if encoding:
            headers.append((b"content-encoding", encoding.encode()))
        return RawResponse(self.status_code, headers, body)


class RawResponse:
    """An answer sent as it is: the page is ready, Litestar's Response would only copy it."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": self.status,
            "headers": self.headers,
        }
        await send(start)
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": b"" if scope.get("method") == "HEAD" else self.body,
            "more_body": False,
        }
        await send(body)


def cut(html: str, slots: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The page's fixed parts and its per-view parts, alternating, and the slots in page order.

    A per-view part is the whole tag that holds a slot (`<input type="hidden" name="submission_id"
    value="…">`): it goes out uncompressed inside the gzip stream, so that a load generator
    such as bench/cycle.py can read the form's hidden fields from the bytes on the wire.
    """
    found = []
    for name in slots:
        marker = slot(name)
        at = html.find(marker)
        if at < 0:
            continue
        if html.find(marker, at + 1) >= 0:
            raise ValueError(f"the slot {name!r} appears twice in the page")
        found.append((at, name))
    found.sort()
    pieces, order, start = [], [], 0
    for at, name in found:
        open_at = html.rfind("<", start, at)
        close_at = html.find(">", at)
        if open_at < 0 or close_at < 0 or html.rfind(">", open_at, at) >= 0:
            open_at, close_at = at, at + len(slot(name)) - 1  # not inside a tag: the value alone
        pieces += [html[start:open_at], html[open_at : close_at + 1]]
        order.append(name)
        start = close_at + 1
    pieces.append(html[start:])
    return tuple(pieces), tuple(order)


def build(
    html: str, slots: tuple[str, ...], status_code: int, headers: Mapping[str, str]
) -> CachedPage:
    pieces, order = cut(html, slots)
    fixed = tuple(part.encode() for part in pieces[::2])
    if any(b"\x00slot:" in part for part in fixed):
        raise ValueError("the page has a slot that was not named")
    tags = []
    for tag, name in zip(pieces[1::2], order, strict=True):
        before, _, after = tag.partition(slot(name))
        tags.append((before, name, after))
    packed = tuple(_deflate(part, last=i == len(fixed) - 1) for i, part in enumerate(fixed))
    whole = None if order else bytes(brotli.compress(fixed[0], mode=brotli.MODE_TEXT, quality=11))
    return CachedPage(
        fixed,
        tuple(tags),
        packed,
        status_code,
        dict(headers),
        whole,
        tuple(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in {"content-type": HTML, **headers, "vary": "Accept-Encoding"}.items()
        ),
    )


def cached_page(
    request: Request[Any, Any, Any],
    key: Hashable,
    make: Callable[[], Template],
    values: Mapping[str, str] | None = None,
) -> ASGIApp:
    """The page kept under `key` (made by `make()` on a miss) with this view's `values`."""
    cache: PageCache = request.app.state.page_cache
    values = values or {}
    page = cache.get(key) or cache.render(request.app, key, make(), tuple(values))
    return page.response(request.headers.get("accept-encoding", ""), values)


class PageCache:
    def __init__(self, max_pages: int = 2048) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()

    def get(self, key: Hashable) -> CachedPage | None:
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def render(
        self, app: Litestar, key: Hashable, template: Template, slots: tuple[str, ...] = ()
    ) -> CachedPage:
        """Render `template` (its per-view values given as `slot(name)`) and keep it."""
        engine: Any = app.template_engine
        html = engine.get_template(template.template_name).render(**template.context)
        page = build(html, slots, template.status_code or 200, template.headers)
        self._pages[key] = page
        self._pages.move_to_end(key)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        return page

    def __len__(self) -> int:
        return len(self._pages)


__all__ = ["CachedPage", "PageCache", "cached_page", "slot"]
