"""CSV downloads: the columns are the fields of the row structs the JSON API returns."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec


def columns(row_type: type[msgspec.Struct], leave_out: Sequence[str] = ()) -> list[str]:
    return [f.name for f in msgspec.structs.fields(row_type) if f.name not in leave_out]


def to_csv(
    rows: Iterable[msgspec.Struct | Mapping[str, Any]],
    header: Sequence[str],
    withheld: str,
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
) -> bytes:
    """UTF-8 with BOM (Excel), comma-separated, decimal point; one line per struct (or dict).

    None is a figure withheld (too few responses, or it would reveal a unit) and becomes
    `withheld`; `convert` turns a column's values into what the reader should see (a
    translated verdict, a list spread over columns is done by the caller).
    """
    convert = convert or {}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        values = []
        for name in header:
            value = row.get(name) if isinstance(row, Mapping) else getattr(row, name)
            if name in convert:
                value = convert[name](value)
            values.append(_cell(value, withheld))
        writer.writerow(values)
    return ("\ufeff" + buf.getvalue()).encode()


def _cell(value: Any, withheld: str) -> Any:
    if value is None:
        return withheld
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
