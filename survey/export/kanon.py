"""k-anonymity of the exported microdata: generalize rare combinations, then suppress them.

The quasi-identifiers of a response are job centre, office, service type, language, mode
and month. Responses are grouped by their exact combination (a *cell*); each cell is then
published at the first step of a fixed ladder at which it shares its published combination
with at least k responses that are published at that same step:

    exact            job centre, office, service type, language, mode, month
    quarter          month → quarter
    office_type      office → office type (only where offices have types)
    jobcentre        office → withheld (the job centre stays)
    language         language → "other"
    service_mode     service type and mode → withheld
    (none fits)      the response is left out (suppressed)

Every key keeps the job centre, so the decision for a response depends only on the
responses of its own job centre: it is the same whoever exports, whatever their scope or
filters, and an export is always a subset of the rows of the whole job centre's published
table. Filters are applied to the *published* values, never to the true ones, so that being
in or out of a filtered export reveals nothing finer. Two exports can therefore never be
joined into a row finer than k.

Only complete months are published. Steps after `exact` pool the months of a quarter and
are taken only for complete quarters; a response of an incomplete quarter that needs them
waits (`pending`) until its quarter is complete, so its published row never changes later
and a later export cannot be subtracted from an earlier one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec

OTHER_LANGUAGE = "other"
STEPS = ("exact", "quarter", "office_type", "jobcentre", "language", "service_mode")


class Cell(msgspec.Struct, frozen=True, order=True):
    """A true combination of quasi-identifiers and how many responses have it."""

    office: int
    service_type: str
    language: str
    mode: str
    month: str
    """YYYY-MM."""


class Published(msgspec.Struct, frozen=True):
    """The quasi-identifiers as they leave the server; None is withheld."""

    jobcentre: int
    office: int | None
    office_type: int | None
    service_type: str | None
    language: str | None
    mode: str | None
    year: int
    quarter: int
    month: int | None
    step: str

    def key(self) -> tuple[object, ...]:
        return (self.jobcentre, self.office, self.office_type, self.service_type,
                self.language, self.mode, self.year, self.quarter, self.month)  # fmt: skip


class Ladder(msgspec.Struct, frozen=True):
    k: int = 5
    grain: str = "month"
    """"month" or "quarter": the finest period ever published."""
    last_month: str = "9999-12"
    """The last complete month (YYYY-MM); later cells are never published."""


class Outcome(msgspec.Struct):
    published: dict[Cell, Published]
    """Cells that leave the server, with their published values."""
    suppressed: dict[Cell, int]
    """Cells left out because no step reached k (their responses are never exported)."""
    pending: dict[Cell, int]
    """Cells of an incomplete quarter that need a quarter step: published once it is over."""
    by_step: dict[str, int]
    """Responses published at each step."""


def quarter_of(month: str) -> tuple[int, int]:
    year, mon = int(month[:4]), int(month[5:7])
    return year, (mon - 1) // 3 + 1


def quarter_complete(year: int, quarter: int, last_month: str) -> bool:
    return f"{year:04d}-{quarter * 3:02d}" <= last_month


def generalize(
    counts: Mapping[Cell, int],
    jobcentre_of: Mapping[int, int],
    ladder: Ladder,
    office_type_of: Mapping[int, int] | None = None,
) -> Outcome:
    """Publish each cell at the first ladder step where its class holds ≥ k responses."""
    types = office_type_of or {}
    out = Outcome({}, {}, {}, dict.fromkeys(STEPS, 0))
    remaining = {c: n for c, n in counts.items() if n > 0 and c.month <= ladder.last_month}

    quarters = {m: quarter_of(m) for m in {c.month for c in remaining}}
    complete = {m: quarter_complete(*q, ladder.last_month) for m, q in quarters.items()}
    by_month = ladder.grain == "month"
    # each cell's values once: job centre, office, office type, service type, language,
    # mode, year, quarter, month (keys then only pick from it)
    values = {
        c: (jobcentre_of[c.office], c.office, types.get(c.office), c.service_type,
            c.language, c.mode, *quarters[c.month], int(c.month[5:7]) if by_month else None)
        for c in remaining
    }  # fmt: skip

    def keys(at: int) -> Callable[[tuple[Any, ...]], tuple[object, ...]]:
        """The published combination at step `at` (an index into STEPS)."""
        if at == 0:
            return lambda v: v
        if at == 1:
            return lambda v: (*v[:8], None)
        if at == 2:
            return lambda v: (v[0], None, *v[2:8], None)
        if at == 3:
            return lambda v: (v[0], None, None, *v[3:8], None)
        if at == 4:
            return lambda v: (v[0], None, None, v[3], OTHER_LANGUAGE, v[5], v[6], v[7], None)
        return lambda v: (v[0], None, None, None, OTHER_LANGUAGE, None, v[6], v[7], None)

    for step in STEPS:
        if step == "quarter" and ladder.grain == "quarter":
            continue
        if step == "office_type" and not types:
            continue
        at = STEPS.index(step)
        key = keys(at)
        pooled = step != "exact" or ladder.grain == "quarter"
        classes: dict[tuple[object, ...], list[Cell]] = defaultdict(list)
        sizes: dict[tuple[object, ...], int] = defaultdict(int)
        for cell, n in remaining.items():
            if not pooled or complete[cell.month]:
                k = key(values[cell])
                classes[k].append(cell)
                sizes[k] += n
        for k, members in classes.items():
            if sizes[k] >= ladder.k:
                published = _published(k, step)
                for c in members:
                    out.published[c] = published
                    del remaining[c]
                out.by_step[step] += sizes[k]
    for cell, n in remaining.items():
        if complete[cell.month]:
            out.suppressed[cell] = n
        else:
            out.pending[cell] = n
    return out


def _published(key: tuple[object, ...], step: str) -> Published:
    j, office, otype, service, language, mode, year, quarter, month = key
    return Published(
        jobcentre=int(j),  # type: ignore[call-overload]
        office=office,  # type: ignore[arg-type]
        office_type=otype,  # type: ignore[arg-type]
        service_type=service,  # type: ignore[arg-type]
        language=language,  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
        year=int(year),  # type: ignore[call-overload]
        quarter=int(quarter),  # type: ignore[call-overload]
        month=month,  # type: ignore[arg-type]
        step=step,
    )


def smallest_class(rows: Iterable[Sequence[object]]) -> int | None:
    """The k an exported table has: the size of its rarest combination of quasi-identifiers.

    Checked on the rows as they were read back from a file, independently of `generalize`.
    """
    sizes: dict[tuple[object, ...], int] = defaultdict(int)
    for row in rows:
        sizes[tuple(row)] += 1
    return min(sizes.values()) if sizes else None


Predicate = Callable[[Published], bool]
