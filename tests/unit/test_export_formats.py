"""The SPSS and Stata files written chunk by chunk equal pyreadstat's own one-shot files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyreadstat
import pytest

from survey.export.spss_stata import DtaWriter, Metadata, SavWriter

SAV_CLOCK = slice(92, 109)
"""Creation date and time in the SPSS header (the two files are written seconds apart)."""


def _columns(nvars: int, n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(nvars * 1000 + n)
    columns = {f"v{i}": rng.integers(-3, 11, n).astype(np.int16) for i in range(nvars - 1)}
    columns["office"] = rng.integers(0, 40_000, n).astype(np.int32)  # not compressible in SPSS
    return columns


@pytest.mark.parametrize("writer", [SavWriter, DtaWriter])
@pytest.mark.parametrize(("nvars", "n"), [(3, 0), (3, 601), (8, 1), (8, 600), (9, 601)])
def test_a_spliced_file_equals_the_one_shot_file(
    writer: type[SavWriter] | type[DtaWriter], nvars: int, n: int, tmp_path: Path
) -> None:
    columns = _columns(nvars, n)
    meta = Metadata(
        list(columns), {k: v.dtype for k, v in columns.items()}, {"v0": "Frage ä"},
        {"v0": {1: "eins", -1: "keine Angabe"}}, {"v0": [-3, -1]}, "Resonanz",
    )  # fmt: skip
    spliced = writer(meta, n)
    parts = [spliced.begin()]
    for lo in range(0, n, 300):
        part = {k: v[lo : lo + 300] for k, v in columns.items()}
        parts.append(spliced.write(part, len(part["v0"])))
    parts.append(spliced.end())
    spliced.close()
    assert not spliced.dir.exists()
    data = b"".join(parts)
    one_shot = writer(meta, n)
    expected = one_shot._write(columns)
    one_shot.close()
    if writer is SavWriter:
        data = data[: SAV_CLOCK.start] + expected[SAV_CLOCK] + data[SAV_CLOCK.stop :]
    else:  # Stata's <timestamp> has minutes only; take the one-shot's all the same
        at = expected.find(b"<timestamp>")
        data = data[:at] + expected[at : at + 30] + data[at + 30 :]
    assert data == expected
    path = tmp_path / f"x{writer.extension}"
    path.write_bytes(data)
    read = pyreadstat.read_sav if writer is SavWriter else pyreadstat.read_dta
    frame, _ = read(str(path), **({"user_missing": True} if writer is SavWriter else {}))
    assert len(frame) == n
    for name, values in columns.items():
        assert (frame[name].to_numpy() == values).all()


def test_a_wrong_row_count_is_refused_not_written() -> None:
    columns = _columns(3, 10)
    meta = Metadata(list(columns), {k: v.dtype for k, v in columns.items()}, {}, {}, {}, "x")
    writer = SavWriter(meta, 11)
    writer.begin()
    writer.write(columns, 10)
    with pytest.raises(RuntimeError, match="10 rows written, 11 announced"):
        writer.end()
    writer.close()
