"""SPSS (.sav) and Stata (.dta) files written by pyreadstat, chunk by chunk, in flat memory.

pyreadstat writes a whole data frame to a file; it has no append. So each chunk of rows is
written as a file of its own into a private temporary directory, and only its data section
is sent on; the header comes from a file of the same variables with no rows, with the number
of rows patched in (it is known before the first row: the anonymization has counted them).
Every chunk file has the same dictionary (same variables, types, labels), so its data section
starts where the empty file's ends. The splice is checked against the file formats:

- SPSS: the header holds the case count twice (the 32-bit field at byte 80 and the 64-bit
  one of extension record 7/16 just before the dictionary's end record 999). With row
  compression every row starts a fresh block of eight command bytes; readstat ends a file
  with command 252 (end of data). A chunk is written with one extra all-zero row, whose
  bytes at the end of the file are then exactly known (command 100 per variable, 252, zero
  padding, no data bytes), and cut off, so the end marker is written once, after the last
  chunk.
- Stata (format 119): `<N>` holds the row count and `<map>` the offsets of all sections;
  rows have a fixed width, so the sections after `<data>` move by rows × width.

A test compares the spliced files byte for byte with pyreadstat's own one-shot output.
The temporary directory is removed when the export ends, however it ends.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

SAV_END_OF_DICTIONARY = struct.pack("<ii", 999, 0)
SAV_NCASES = 80
SAV_BIAS = 100
DTA_MAP_ENTRIES = 14
DTA_DATA, DTA_STRLS = 9, 10


class SpliceError(RuntimeError):
    """pyreadstat wrote something other than the layout the splice relies on."""


class Metadata:
    """Labels as pyreadstat takes them, for every chunk alike."""

    def __init__(
        self,
        names: Sequence[str],
        dtypes: Mapping[str, Any],
        column_labels: Mapping[str, str],
        value_labels: Mapping[str, Mapping[int, str]],
        missing: Mapping[str, Sequence[int]],
        file_label: str,
        measure: Mapping[str, str] | None = None,
    ) -> None:
        self.names = list(names)
        self.dtypes = dict(dtypes)
        self.column_labels = dict(column_labels)
        self.value_labels = {k: dict(v) for k, v in value_labels.items() if v}
        self.missing = {k: list(v) for k, v in missing.items() if v}
        self.file_label = file_label
        self.measure = dict(measure or {})


def _frame(meta: Metadata, columns: Mapping[str, np.ndarray]) -> Any:
    import pandas as pd

    return pd.DataFrame({name: columns[name].astype(meta.dtypes[name]) for name in meta.names})


class _ReadstatWriter:
    extension = ""
    media_type = "application/octet-stream"
    independent = False

    def __init__(self, meta: Metadata, rows: int) -> None:
        self.meta = meta
        self.rows = rows
        self.dir = Path(tempfile.mkdtemp(prefix="resonanz-export-"))
        self.path = self.dir / f"chunk{self.extension}"
        self.written = 0

    def _write(self, columns: Mapping[str, np.ndarray]) -> bytes:
        raise NotImplementedError

    def _empty(self) -> dict[str, np.ndarray]:
        return {n: np.zeros(0, dtype=self.meta.dtypes[n]) for n in self.meta.names}

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _limit(text: str, max_bytes: int) -> str:
    raw = text.encode()
    if len(raw) <= max_bytes:
        return text
    return raw[: max_bytes - 3].decode(errors="ignore") + "…"


class SavWriter(_ReadstatWriter):
    extension = ".sav"
    media_type = "application/x-spss-sav"
    LABEL_BYTES = 255

    def _write(self, columns: Mapping[str, np.ndarray]) -> bytes:
        import pyreadstat

        m = self.meta
        pyreadstat.write_sav(
            _frame(m, columns),
            str(self.path),
            file_label=_limit(m.file_label, 64),
            column_labels={k: _limit(v, self.LABEL_BYTES) for k, v in m.column_labels.items()},
            row_compress=True,
            variable_value_labels={
                k: {v: _limit(t, 120) for v, t in labels.items()}
                for k, labels in m.value_labels.items()
            },
            missing_ranges={k: [{"lo": min(v), "hi": max(v)}] for k, v in m.missing.items()},
            variable_measure=m.measure,
            variable_format={n: "F8.0" for n in m.names},
        )
        return self.path.read_bytes()

    def begin(self) -> bytes:
        empty = self._write(self._empty())
        self.data_start = len(empty)
        if empty[-8:] != SAV_END_OF_DICTIONARY:
            raise SpliceError("the SPSS dictionary does not end where expected")
        header = bytearray(empty)
        header[SAV_NCASES : SAV_NCASES + 4] = struct.pack("<i", self.rows)
        ncases64 = self.data_start - 16
        if struct.unpack("<q", header[ncases64 : ncases64 + 8]) != (0,):
            raise SpliceError("the SPSS case count record is not where expected")
        header[ncases64 : ncases64 + 8] = struct.pack("<q", self.rows)
        self.sentinel = self._sentinel_bytes()
        return bytes(header)

    def _sentinel_bytes(self) -> bytes:
        commands = [SAV_BIAS] * len(self.meta.names) + [252]
        commands += [0] * (-len(commands) % 8)
        return bytes(commands)

    def write(self, columns: Mapping[str, np.ndarray], n: int) -> bytes:
        """The chunk's rows; the last chunk (by the announced count) keeps the end marker."""
        if n == 0:
            return b""
        last = self.written + n >= self.rows
        if not last:
            columns = {k: np.concatenate([v, np.zeros(1, v.dtype)]) for k, v in columns.items()}
        data = self._write(columns)
        if data[self.data_start - 8 : self.data_start] != SAV_END_OF_DICTIONARY:
            raise SpliceError("an SPSS chunk has a different dictionary")
        self.written += n
        if last:
            return data[self.data_start :]
        if not data.endswith(self.sentinel):
            raise SpliceError("an SPSS chunk does not end with the sentinel row")
        return data[self.data_start : len(data) - len(self.sentinel)]

    def end(self) -> bytes:
        if self.written != self.rows:
            raise SpliceError(f"{self.written} rows written, {self.rows} announced")
        return b""


class DtaWriter(_ReadstatWriter):
    extension = ".dta"
    media_type = "application/x-stata-dta"
    LABEL_CHARS = 80

    def _write(self, columns: Mapping[str, np.ndarray]) -> bytes:
        import pyreadstat

        m = self.meta
        pyreadstat.write_dta(
            _frame(m, columns),
            str(self.path),
            file_label=_limit(m.file_label, 80),
            column_labels={k: _chars(v, self.LABEL_CHARS) for k, v in m.column_labels.items()},
            version=15,
            variable_value_labels=dict(m.value_labels),  # type: ignore[arg-type]
        )
        return self.path.read_bytes()

    @staticmethod
    def _map(data: bytes) -> tuple[int, list[int]]:
        at = data.find(b"<map>")
        if at < 0 or data[:11] != b"<stata_dta>" or b"<release>119</release>" not in data[:80]:
            raise SpliceError("not a Stata 119 file")
        start = at + len(b"<map>")
        return start, list(struct.unpack(f"<{DTA_MAP_ENTRIES}Q", data[start : start + 112]))

    def begin(self) -> bytes:
        empty = self._write(self._empty())
        self.map_at, offsets = self._map(empty)
        self.data_at, self.strls_at = offsets[DTA_DATA], offsets[DTA_STRLS]
        if empty[self.data_at : self.strls_at] != b"<data></data>":
            raise SpliceError("the empty Stata file has an unexpected data section")
        self.trailer = empty[self.strls_at - len(b"</data>") :]
        self.width = 0
        self.offsets = offsets
        self.header = bytearray(empty[: self.data_at + len(b"<data>")])
        return b""  # sent with the first chunk, once the row width is known

    def _header(self) -> bytes:
        header = self.header
        n_at = header.find(b"<N>") + 3
        header[n_at : n_at + 8] = struct.pack("<Q", self.rows)
        shift = self.rows * self.width
        offsets = [o + shift if i > DTA_DATA else o for i, o in enumerate(self.offsets)]
        header[self.map_at : self.map_at + 112] = struct.pack(f"<{DTA_MAP_ENTRIES}Q", *offsets)
        return bytes(header)

    def write(self, columns: Mapping[str, np.ndarray], n: int) -> bytes:
        if n == 0:
            return b""
        data = self._write(columns)
        _, offsets = self._map(data)
        begin = offsets[DTA_DATA] + len(b"<data>")
        stop = offsets[DTA_STRLS] - len(b"</data>")
        if offsets[DTA_DATA] != self.data_at or (stop - begin) % n:
            raise SpliceError("a Stata chunk has a different layout")
        head = b""
        if not self.width:
            self.width = (stop - begin) // n
            head = self._header()
        elif (stop - begin) // n != self.width:
            raise SpliceError("a Stata chunk has a different row width")
        self.written += n
        return head + data[begin:stop]

    def end(self) -> bytes:
        if self.written != self.rows:
            raise SpliceError(f"{self.written} rows written, {self.rows} announced")
        if not self.width:  # no rows at all: the empty file as it is
            return bytes(self.header) + self.trailer
        return self.trailer


def _chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
