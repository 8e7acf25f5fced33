"""What the compression middleware compresses, and how it reads Accept-Encoding."""

from __future__ import annotations

import gzip

import brotli
import httpx
import pytest
from litestar import Litestar, Response, get

from survey.compression import SKIP_OPT, accepted_encodings, best_encoding, compression_config

TEXT = "Zufriedenheit;Standort;n\n" + "0,82;Nordheide-Süd;412\n" * 200
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
        ("identity", None),
        ("", None),
        ("*", "br"),
        ("*, br;q=0", "gzip"),
        ("x-gzip", "gzip"),
        ("brotli, gzipx", None),
        ("GZIP;Q=0.5", "gzip"),
        ("gzip;q=nonsense", None),
    ],
)
def test_it_reads_accept_encoding_with_its_q_values(header: str, expected: str | None) -> None:
    assert best_encoding(header) == expected


def test_a_refused_coding_stays_refused_under_a_wildcard() -> None:
    assert accepted_encodings("*;q=1, gzip;q=0") == {"*", "br"}


def _app() -> Litestar:
    def text(media_type: str) -> Response[str]:
        return Response(TEXT, media_type=media_type)

    @get("/csv")
    async def csv() -> Response[str]:
        return text("text/csv; charset=utf-8")

    @get("/svg")
    async def svg() -> Response[str]:
        return text("image/svg+xml")

    @get("/json")
    async def json() -> dict[str, list[str]]:
        return {"rows": TEXT.splitlines()}

    @get("/png")
    async def png() -> Response[bytes]:
        return Response(PNG, media_type="image/png")

    @get("/small")
    async def small() -> Response[str]:
        return Response("ok", media_type="text/plain")

    @get("/own", opt={SKIP_OPT: True})
    async def own() -> Response[bytes]:
        return Response(
            gzip.compress(TEXT.encode()),
            media_type="text/plain",
            headers={"content-encoding": "gzip"},
        )

    @get("/encoded-without-opt")
    async def encoded() -> Response[bytes]:
        return Response(
            gzip.compress(TEXT.encode()),
            media_type="text/plain",
            headers={"content-encoding": "gzip"},
        )

    return Litestar(
        [csv, svg, json, png, small, own, encoded], compression_config=compression_config()
    )


async def _raw(client: httpx.AsyncClient, path: str, encoding: str) -> tuple[httpx.Response, bytes]:
    async with client.stream("GET", path, headers={"accept-encoding": encoding}) as answer:
        return answer, b"".join([chunk async for chunk in answer.aiter_raw()])


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client  # type: ignore[misc]


@pytest.mark.parametrize("path", ["/csv", "/svg", "/json"])
async def test_text_decodes_to_the_same_bytes_in_every_coding(
    client: httpx.AsyncClient, path: str
) -> None:
    plain, plain_body = await _raw(client, path, "identity")
    assert "content-encoding" not in plain.headers
    decode = {"br": brotli.decompress, "gzip": gzip.decompress}
    for encoding in ("br", "gzip"):
        packed, body = await _raw(client, path, encoding)
        assert packed.headers["content-encoding"] == encoding
        assert "accept-encoding" in packed.headers["vary"].lower()
        assert int(packed.headers["content-length"]) == len(body) < len(plain_body) / 4
        assert decode[encoding](body) == plain_body


async def test_it_leaves_binary_small_and_self_encoded_answers_alone(
    client: httpx.AsyncClient,
) -> None:
    png, body = await _raw(client, "/png", "br, gzip")
    assert "content-encoding" not in png.headers and body == PNG
    small, body = await _raw(client, "/small", "br, gzip")
    assert "content-encoding" not in small.headers and body == b"ok"
    for path in ("/own", "/encoded-without-opt"):
        own, body = await _raw(client, path, "br, gzip")
        assert own.headers["content-encoding"] == "gzip", "never compressed twice"
        assert gzip.decompress(body) == TEXT.encode()
