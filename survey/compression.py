"""Compression of every text response: brotli where the client offers it, else gzip.

Litestar's compression middleware does the work; this subclass decides what to compress.
It reads Accept-Encoding with its q-values (Litestar's own looks for the substring "br"),
and passes a response through untouched when it is not text (images, PDF, Parquet are
compressed already) or when its handler encoded it itself (static files are compressed once
and kept; see survey/assets.py).
"""

from __future__ import annotations

import functools

from litestar.config.compression import CompressionConfig
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import Message, Receive, Scope, Send

TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/manifest+json",
    "application/problem+json",
    "application/vnd.oai.openapi",
    "application/x-yaml",
    "application/yaml",
    "image/svg+xml",
)
SKIP_OPT = "skip_compression"
"""A handler with this key in its `opt` sends its own Content-Encoding (or none)."""


def accepted_encodings(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (q=0 refuses; `*` allows all)."""
    allowed: set[str] = set()
    refused: set[str] = set()
    for part in header.lower().split(","):
        name, _, params = part.partition(";")
        name = name.strip()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        (allowed if q > 0 else refused).add(name)
    if "*" in allowed:
        allowed |= {"br", "gzip"} - refused
    if "x-gzip" in allowed and "gzip" not in refused:
        allowed.add("gzip")
    return allowed - refused


@functools.lru_cache(maxsize=512)
def best_encoding(header: str, offered: tuple[str, ...] = ("br", "gzip")) -> str | None:
    """The first of `offered` that the client accepts, or None for the identity coding.
    Memoized: clients send a handful of distinct headers, and this runs on every request."""
    if not header:
        return None
    allowed = accepted_encodings(header)
    return next((e for e in offered if e in allowed), None)


def accept_encoding(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":  # ASGI servers give header names in lower case
            return value.decode("latin-1")
    return ""


def is_text(content_type: str) -> bool:
    return content_type.lower().startswith(TEXT_TYPES)


class TextCompressionMiddleware(CompressionMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        encoding = best_encoding(accept_encoding(scope), self._offered)
        if encoding is None:
            await self.app(scope, receive, send)
            return
        target: Send | None = None

        async def text_only(message: Message) -> None:
            nonlocal target
            if message["type"] == "http.response.start":
                content_type, plain = "", True
                for name, value in message.get("headers", ()):
                    name = name.lower()
                    if name == b"content-type":
                        content_type = value.decode("latin-1")
                    elif name == b"content-encoding":
                        plain = False
                # the compressor is made only for an answer it will compress
                target = (
                    self.create_compression_send_wrapper(
                        send=send, compression_encoding=encoding, scope=scope
                    )
                    if plain and is_text(content_type)
                    else send
                )
            await (target or send)(message)

        await self.app(scope, receive, text_only)

    @property
    def _offered(self) -> tuple[str, ...]:
        return ("br", "gzip") if self.config.backend == "brotli" else ("gzip",)


def compression_config() -> CompressionConfig:
    """Brotli quality 4 and gzip level 6: near their best ratio on pages of a few kB, at a
    fraction of the time of their highest levels (a page is compressed on every request)."""
    return CompressionConfig(
        backend="brotli",
        brotli_quality=4,
        gzip_compress_level=6,
        minimum_size=512,
        middleware_class=TextCompressionMiddleware,
        exclude_opt_key=SKIP_OPT,
    )


__all__ = ["SKIP_OPT", "accepted_encodings", "best_encoding", "compression_config"]
