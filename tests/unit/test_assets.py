"""Static files under content-hashed names, and their compressed copies."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest

from survey.assets import Assets, hashed_name


def _folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return tmp_path


def test_the_hashed_url_changes_when_the_file_changes(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"css/site.css": b"body { color: black }"})
    before = Assets(folder).url("css/site.css")
    (folder / "css/site.css").write_bytes(b"body { color: navy }")
    after = Assets(folder).url("css/site.css")
    assert before != after
    assert before.startswith("/static/css/site.") and before.endswith(".css")
    (folder / "css/site.css").write_bytes(b"body { color: black }")
    assert Assets(folder).url("css/site.css") == before, "the same bytes, the same name"


def test_it_finds_a_file_by_its_plain_and_its_hashed_name_and_nothing_else(
    tmp_path: Path,
) -> None:
    folder = _folder(tmp_path / "static", {"js/a.js": b"let a = 1;", "img/logo.png": b"\x89PNG"})
    (tmp_path / "secret.txt").write_text("not served")
    assets = Assets(folder)
    hashed = assets.url("js/a.js").removeprefix("/static/")
    assert assets.find("js/a.js")[1] is False  # type: ignore[index]
    assert assets.find(hashed)[1] is True  # type: ignore[index]
    for name in ["../secret.txt", "js/../../secret.txt", "js/a.js\x00", "", "js", "/js/a.js"]:
        assert assets.find(name) is None, name
    with pytest.raises(KeyError):
        assets.url("js/missing.js")


def test_an_outdated_hash_gets_the_current_file_to_revalidate(tmp_path: Path) -> None:
    assets = Assets(_folder(tmp_path, {"js/a.js": b"let a = 2;"}))
    found = assets.find("js/a.0123456789.js")
    assert found is not None and found[0].data == b"let a = 2;" and found[1] is False
    assert assets.find("js/b.0123456789.js") is None


def test_it_names_files_with_several_dots_and_none() -> None:
    assert hashed_name("vendor/plotly-basic-4.1.1.min.js", "abc") == (
        "vendor/plotly-basic-4.1.1.min.abc.js"
    )
    assert hashed_name("LICENSE", "abc") == "LICENSE.abc"
    assert hashed_name(".well-known", "abc") == ".well-known.abc"


def test_compressed_copies_decode_to_the_file(tmp_path: Path) -> None:
    text = b"function f() { return 'resonanz'; }\n" * 200
    asset = Assets(_folder(tmp_path, {"js/f.js": text})).find("js/f.js")[0]  # type: ignore[index]
    assert asset.compressible
    assert brotli.decompress(asset.encoded("br")) == text
    assert gzip.decompress(asset.encoded("gzip")) == text
    assert len(asset.encoded("br")) < len(text) / 10


def test_it_takes_a_precompressed_copy_only_when_it_decodes_to_the_file(tmp_path: Path) -> None:
    text = b"var plotly = 'bundle';\n" * 100
    folder = _folder(
        tmp_path,
        {
            "vendor/good.js": text,
            "vendor/good.js.br": brotli.compress(text, quality=1),
            "vendor/stale.js": text,
            "vendor/stale.js.br": brotli.compress(b"an older bundle"),
            "vendor/broken.js": text,
            "vendor/broken.js.br": b"not brotli at all",
        },
    )
    assets = Assets(folder)
    assert assets.find("vendor/good.js.br") is None, "copies are not served on their own"
    good, stale, broken = (assets.find(f"vendor/{n}.js")[0] for n in ("good", "stale", "broken"))  # type: ignore[index]
    assert good.ready("br") and good.encoded("br") == brotli.compress(text, quality=1)
    assert not stale.ready("br") and brotli.decompress(stale.encoded("br")) == text
    assert not broken.ready("br") and brotli.decompress(broken.encoded("br")) == text


def test_binary_files_are_not_compressed(tmp_path: Path) -> None:
    assets = Assets(_folder(tmp_path, {"img/a.png": b"\x89PNG\r\n", "fonts/a.woff2": b"wOF2"}))
    assert not assets.find("img/a.png")[0].compressible  # type: ignore[index]
    assert not assets.find("fonts/a.woff2")[0].compressible  # type: ignore[index]


def test_the_vendored_plotly_bundle_ships_a_brotli_copy_of_itself() -> None:
    """`make plotly` writes it; a stale copy would be ignored and cost seconds per process."""
    static = Path(__file__).resolve().parents[2] / "frontend/static"
    bundles = [a for a in Assets(static).files() if a.path.startswith("vendor/plotly")]
    assert [b.path for b in bundles if b.path.endswith(".js")] == [
        "vendor/plotly-basic-4.1.1.min.js"
    ]
    assert all(b.ready("br") for b in bundles if b.path.endswith(".js"))
