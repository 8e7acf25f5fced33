"""CSV (pyarrow's CSV writer) and Parquet (pyarrow), one chunk of rows at a time.

Both hold the same integer codes as the SPSS and Stata files. Parquet carries the variable
labels, value labels and missing codes as metadata of each column (Arrow field metadata,
keys `label`, `label_de`, `label_en`, `values`, `missing`, `question_de`, `question_en`) and
the whole codebook as JSON in the file's metadata (`resonanz.codebook`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from survey.export.schemas import Variable


def arrow_array(column: np.ndarray) -> pa.Array:
    """A numeric column as an Arrow array sharing its memory (`pa.array` would first import
    pandas, seconds in a fresh process such as `resonanz export`)."""
    if column.dtype.kind not in "iuf":
        return pa.array(column)
    column = np.ascontiguousarray(column)
    kind = pa.from_numpy_dtype(column.dtype)
    return pa.Array.from_buffers(kind, len(column), [None, pa.py_buffer(column)])


def _table(variables: Sequence[Variable], columns: Mapping[str, np.ndarray]) -> pa.Table:
    return pa.Table.from_arrays(
        [arrow_array(columns[v.name]) for v in variables], names=[v.name for v in variables]
    )


class CsvWriter:
    extension = ".csv"
    media_type = "text/csv"  # Litestar adds "; charset=utf-8" to text/*
    independent = True

    def __init__(self, variables: Sequence[Variable], sep: str = ",") -> None:
        self.variables = list(variables)
        self.sep = sep
        self.options = pa_csv.WriteOptions(
            include_header=False, delimiter=sep, eol="\r\n", quoting_style="none"
        )

    def begin(self) -> bytes:
        return (self.sep.join(v.name for v in self.variables) + "\r\n").encode()

    def write(self, columns: Mapping[str, np.ndarray], n: int) -> bytes:
        if n == 0:
            return b""
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(_table(self.variables, columns), sink, self.options)
        return bytes(sink.getvalue().to_pybytes())

    def end(self) -> bytes:
        return b""

    def close(self) -> None:
        pass


class _Drain(io.RawIOBase):
    """A write-only file whose bytes are taken out after each row group."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def field_metadata(v: Variable, lang: str) -> dict[bytes, bytes]:
    label = v.label.de if lang == "de" else v.label.en
    meta = {
        "label": label,
        "label_de": v.label.de,
        "label_en": v.label.en,
        "values": msgspec.json.encode(
            {str(code): (t.de if lang == "de" else t.en) for code, t in v.values.items()}
        ).decode(),
        "missing": msgspec.json.encode(
            {str(code): (t.de if lang == "de" else t.en) for code, t in v.missing.items()}
        ).decode(),
    }
    if v.question is not None:
        meta["question_de"], meta["question_en"] = v.question.de, v.question.en
    return {k.encode(): val.encode() for k, val in meta.items()}


class ParquetWriter:
    extension = ".parquet"
    media_type = "application/vnd.apache.parquet"
    independent = False

    def __init__(self, variables: Sequence[Variable], lang: str, codebook_json: bytes) -> None:
        self.variables = list(variables)
        self.schema = pa.schema(
            [
                pa.field(v.name, pa.from_numpy_dtype(np.dtype(v.dtype)), nullable=False,
                         metadata=field_metadata(v, lang))
                for v in self.variables
            ],
            metadata={b"resonanz.codebook": codebook_json},
        )  # fmt: skip
        self.sink = _Drain()
        self.writer: pq.ParquetWriter | None = None

    def begin(self) -> bytes:
        self.writer = pq.ParquetWriter(self.sink, self.schema, compression="zstd")
        return self.sink.take()

    def write(self, columns: Mapping[str, np.ndarray], n: int) -> bytes:
        assert self.writer is not None
        if n == 0:
            return b""
        table = pa.Table.from_arrays(
            [arrow_array(columns[v.name]) for v in self.variables], schema=self.schema
        )
        self.writer.write_table(table)
        return self.sink.take()

    def end(self) -> bytes:
        assert self.writer is not None
        self.writer.close()
        self.writer = None
        return self.sink.take()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
