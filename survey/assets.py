"""Static files under content-hashed names: compressed once, cached by browsers for a year.

`static("css/respond.css")` in a template gives `/static/css/respond.1a2b3c4d5e.css`; the name
changes whenever the file does, so that URL may be cached as immutable. The plain name is
served too, for URLs that must stay the same (a service worker's), with `no-cache`: the
browser asks again each time and gets 304 while its ETag still matches.

Only files found under the folder when the app starts are served: a request names a key of
that table, never a path on disk. Text files are compressed once, on first use, and kept:
brotli (quality 11, or 9 above 256 kB) and gzip (level 9). A file `X.br` or `X.gz` next to
`X` is taken instead when it decodes to exactly `X` (the vendored plotly.js bundle comes with
its brotli file, quality 11, and a gzip file made by zopfli: each takes seconds on a bundle that
size; `make plotly`).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import brotli

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
TEXT_SUFFIXES = {  # Litestar adds "; charset=utf-8" to every text/* type
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".html": "text/html",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".map": "application/json",
    ".xml": "application/xml",
}
PRECOMPRESSED = (".br", ".gz")
BROTLI_MAX_QUALITY_BYTES = 256 * 1024
HASH_LENGTH = 10
_OLD_HASH = re.compile(rf"(?P<head>.*[^/.])\.[0-9a-f]{{{HASH_LENGTH}}}(?P<tail>\.[^/.]+)?")


@dataclass
class Asset:
    path: str
    """Relative to the static folder, with forward slashes: `css/respond.css`."""
    hashed: str
    """The same with the content hash before the suffix: `css/respond.1a2b3c4d5e.css`."""
    data: bytes
    media_type: str
    etag: str
    compressible: bool
    _encoded: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def encoded(self, encoding: str) -> bytes:
        """The file in `encoding` ("br" or "gzip"), compressed on first use and kept."""
        body = self._encoded.get(encoding)
        if body is None:
            with self._lock:
                body = self._encoded.get(encoding)
                if body is None:
                    body = self._encoded[encoding] = _compress(self.data, encoding)
        return body

    def ready(self, encoding: str) -> bool:
        return encoding in self._encoded


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        quality = 11 if len(data) <= BROTLI_MAX_QUALITY_BYTES else 9
        return bytes(brotli.compress(data, mode=brotli.MODE_TEXT, quality=quality))
    return gzip.compress(data, compresslevel=9, mtime=0)


def _decoded(blob: bytes, encoding: str) -> bytes | None:
    try:
        return bytes(brotli.decompress(blob)) if encoding == "br" else gzip.decompress(blob)
    except (brotli.error, OSError, EOFError):
        return None


def _media_type(path: Path) -> tuple[str, bool]:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return TEXT_SUFFIXES[suffix], True
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream", False


def hashed_name(path: str, digest: str) -> str:
    """`css/respond.css` → `css/respond.<digest>.css` (`LICENSE` → `LICENSE.<digest>`)."""
    head, slash, name = path.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    if not stem:
        return f"{path}.{digest}"
    return f"{head}{slash}{stem}.{digest}{dot}{suffix}"


class Assets:
    """The static folder, read once: its files by plain and by hashed name."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._by_name: dict[str, tuple[Asset, bool]] = {}
        for file in sorted(p for p in directory.rglob("*") if p.is_file()):
            if file.suffix in PRECOMPRESSED and file.with_suffix("").is_file():
                continue  # a precompressed copy, taken up by its original below
            self._add(file)

    def _add(self, file: Path) -> None:
        asset = self.add(file.relative_to(self.directory).as_posix(), file.read_bytes())
        for suffix, encoding in ((".br", "br"), (".gz", "gzip")):
            copy = file.with_name(file.name + suffix)
            if asset.compressible and copy.is_file():
                blob = copy.read_bytes()
                if _decoded(blob, encoding) == asset.data:
                    asset._encoded[encoding] = blob

    def add(self, path: str, data: bytes) -> Asset:
        """A file made by the app itself (not on disk), served like the others."""
        digest = hashlib.sha256(data).hexdigest()
        media_type, compressible = _media_type(Path(path))
        asset = Asset(
            path=path,
            hashed=hashed_name(path, digest[:HASH_LENGTH]),
            data=data,
            media_type=media_type,
            etag=f'"{digest[:20]}"',
            compressible=compressible,
        )
        self._by_name[path] = (asset, False)
        self._by_name[asset.hashed] = (asset, True)
        return asset

    def url(self, path: str) -> str:
        """The hashed URL of a file; a name that is not there fails loudly (a template typo)."""
        found = self._by_name.get(path)
        if found is None:
            raise KeyError(f"no static file {path!r} in {self.directory}")
        return f"/static/{found[0].hashed}"

    def find(self, name: str) -> tuple[Asset, bool] | None:
        """The asset a request names, and whether the name was its current hashed one.

        A name with another hash (a page rendered before the file changed, served by a
        process that started later) gets the current file, to be revalidated, not cached.
        """
        found = self._by_name.get(name)
        if found is None and (old := _OLD_HASH.fullmatch(name)):
            asset = self._by_name.get(old["head"] + (old["tail"] or ""))
            found = (asset[0], False) if asset else None
        return found

    def files(self) -> list[Asset]:
        return [asset for asset, hashed in self._by_name.values() if not hashed]


__all__ = ["IMMUTABLE", "REVALIDATE", "Asset", "Assets"]
