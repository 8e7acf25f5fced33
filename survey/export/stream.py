"""An export from request to bytes: plan, audit entry, then the file streamed chunk by chunk.

Used alike by the API, the export page and `resonanz export`. The reader (one connection,
one snapshot) and the writer's temporary files are released when the stream ends, whether
it was read to the end, failed, or the client went away in the middle.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, Protocol

import msgspec
import numpy as np

from survey.auth import queries as auth_queries
from survey.auth.schemas import Scope
from survey.dashboard import queries as dashboard_queries
from survey.dashboard.comments import shown_months
from survey.dashboard.filters import publication_day, published_through
from survey.errors import BadRequest, Forbidden, not_one_of
from survey.export import codebook as codebook_module
from survey.export import microdata
from survey.export.queries import Reader, open_reader
from survey.export.schemas import FORMATS, Codebook, ExportRequest, Variable
from survey.export.shuffle import Shuffle, shuffled
from survey.export.spss_stata import DtaWriter, Metadata, SavWriter
from survey.export.tabular import CsvWriter, ParquetWriter
from survey.i18n import N_
from survey.masking import MASKS, mask_personal_data
from survey.settings import Settings
from survey.spreadsheet import text_cell


class Writer(Protocol):
    extension: str
    media_type: str
    independent: bool
    """Chunks are written independently of each other (two may be written at once)."""

    def begin(self) -> bytes: ...

    def write(self, columns: dict[str, np.ndarray], n: int) -> bytes: ...

    def end(self) -> bytes: ...

    def close(self) -> None: ...


def check_request(request: ExportRequest) -> None:
    if request.format not in FORMATS:
        raise not_one_of(f"format must be one of {', '.join(FORMATS)}; got {request.format[:20]!r}",
                         N_("Format"), FORMATS, request.format)  # fmt: skip
    check_csv(request)


def check_csv(request: ExportRequest) -> None:
    """What a CSV of either export needs: its labels' language and a separator."""
    if request.lang not in ("de", "en"):
        raise not_one_of("labels must be de or en", N_("Labels in"), ("de", "en"), request.lang)
    if request.sep not in (",", ";"):
        raise BadRequest(
            N_("sep, the CSV separator, must be comma (,) or semicolon (;), e.g. sep=semicolon")
        )


def readstat_metadata(variables: list[Variable], lang: str, title: str) -> Metadata:
    def t(text: Any) -> str:
        return str(text.de if lang == "de" else text.en)

    return Metadata(
        names=[v.name for v in variables],
        dtypes={v.name: v.dtype for v in variables},
        column_labels={v.name: t(v.label) for v in variables},
        value_labels={
            v.name: {code: t(text) for code, text in (v.values | v.missing).items()}
            for v in variables
        },
        missing={v.name: sorted(v.missing) for v in variables},
        file_label=title,
        measure={v.name: v.measure for v in variables},
    )


def make_writer(plan: microdata.Plan, book: Codebook) -> Writer:
    r = plan.request
    if r.format == "csv":
        return CsvWriter(plan.variables, r.sep)
    if r.format == "parquet":
        return ParquetWriter(plan.variables, r.lang, codebook_module.to_json(book))
    meta = readstat_metadata(plan.variables, r.lang, "Resonanz")
    return SavWriter(meta, plan.rows) if r.format == "sav" else DtaWriter(meta, plan.rows)


class Export:
    def __init__(
        self, reader: Reader, plan: microdata.Plan, book: Codebook, writer: Writer
    ) -> None:
        self.reader = reader
        self.plan = plan
        self.codebook = book
        self.writer = writer

    @property
    def filename(self) -> str:
        plan = self.plan
        return f"resonanz-responses-{plan.period_from}-{plan.period_to}{self.writer.extension}"

    @property
    def media_type(self) -> str:
        return self.writer.media_type

    async def body(self) -> AsyncGenerator[bytes, None]:
        # chunks being written, in order: two at once where the writer allows it
        writing: deque[asyncio.Future[bytes]] = deque()
        try:
            head = await asyncio.to_thread(self.writer.begin)
            if head:
                yield head
            plan = self.plan
            shuffle, rows = plan.prefetched, None
            if shuffle is None:  # not read with the cells: read now
                rows = self.reader.rows(plan.query)
                shuffle = Shuffle(2 + len(plan.query.item_groups), plan.rows)
            at_once = 2 if self.writer.independent else 1
            async with aclosing(shuffled(rows, shuffle)) as blocks:
                async for block in blocks:
                    writing.append(asyncio.ensure_future(asyncio.to_thread(self._write, block)))
                    if len(writing) >= at_once:
                        data = await writing.popleft()
                        if data:
                            yield data
            while writing:
                data = await writing.popleft()
                if data:
                    yield data
            tail = await asyncio.to_thread(self.writer.end)
            if tail:
                yield tail
        finally:
            if writing:  # a write under way in a thread cannot be stopped: let it end
                await asyncio.wait(writing)
                for task in writing:
                    if not task.cancelled():
                        task.exception()
            await self.close()

    def _write(self, block: np.ndarray) -> bytes:
        columns = microdata.columns(self.plan, block)
        if columns is None:
            return b""
        return self.writer.write(columns, len(next(iter(columns.values()))))

    async def close(self) -> None:
        self.plan.close()
        self.writer.close()
        await self.reader.close()


def _detail(plan: microdata.Plan, fmt: str, via: str) -> dict[str, Any]:
    a = plan.anonymization
    book_filters = codebook_module.build(plan, fmt).filters
    return {
        "what": "responses",
        "format": fmt,
        "via": via,
        "filters": book_filters,
        "period": [plan.period_from, plan.period_to],
        "rows": plan.rows,
        "anonymization": {
            "k": a.k,
            "period": a.period,
            "rows_by_step": a.rows_by_step,
            "suppressed_in_scope": a.suppressed_in_scope,
            "pending_in_scope": a.pending_in_scope,
            "smallest_class": a.smallest_class,
            "accounting": msgspec.to_builtins(a.accounting),
        },
    }


async def open_export(
    settings: Settings, scope: Scope, request: ExportRequest, *, via: str
) -> Export:
    """Plan the export, write its audit entry, and return it ready to stream.

    Bad requests raise before anything is read or logged as exported.
    """
    check_request(request)
    reader = await open_reader(settings)
    plan: microdata.Plan | None = None
    try:
        plan = await microdata.make_plan(
            reader, scope, request, k=settings.export_k, grain=settings.export_period,
            prefetch=True,
        )  # fmt: skip
        book = codebook_module.build(plan, request.format)
        writer = make_writer(plan, book)
    except BaseException:
        if plan is not None:
            plan.close()
        await reader.close()
        raise
    try:
        await auth_queries.audit(
            "export", user_id=scope.user_id or None, username=scope.username,
            **_detail(plan, request.format, via),
        )  # fmt: skip
    except BaseException:
        plan.close()
        writer.close()
        await reader.close()
        raise
    return Export(reader, plan, book, writer)


async def plan_only(settings: Settings, scope: Scope, request: ExportRequest) -> Codebook:
    """The codebook of an export without its rows (for the page and /codebook)."""
    check_request(request)
    reader = await open_reader(settings)
    try:
        plan = await microdata.make_plan(
            reader, scope, request, k=settings.export_k, grain=settings.export_period
        )
        return codebook_module.build(plan, request.format)
    finally:
        await reader.close()


# ---- free text ------------------------------------------------------------------------------

EN_MASKS = {
    "email": "[e-mail]",
    "iban": "[IBAN]",
    "case": "[case number]",
    "customer": "[customer number]",
    "birth_date": "[date of birth]",
    "address": "[address]",
    "phone": "[phone]",
    "name": "[name]",
}
"""The masks in English; German ones are survey.masking's own."""


async def open_comments(
    settings: Settings, scope: Scope, request: ExportRequest, *, via: str
) -> tuple[str, AsyncIterator[bytes]]:
    """Free-text answers of the offices the user may read comments of, masked like the
    dashboards, by month, in an order unrelated to the response rows (office, month, text);
    only of the months whose comments the office page shows (`comments.shown_months`: the
    month's published figure has the minimum of responses), without hidden ones.

    Bad requests raise before anything is read or logged as exported."""
    check_csv(request)
    if not (scope.may_see_dashboards or "operator" in scope.roles):
        raise Forbidden(N_("Your role does not include reading comments."))
    first, last = microdata.period(request)
    offices = [o for o in scope.visible_offices if request.office in (None, o.id)]
    if request.office is not None and not offices:
        raise Forbidden(N_("You may not see the results of this office."))
    offices = [o for o in offices if scope.reads_comments_of(o.id)]  # their own staff only
    if not offices:
        raise Forbidden(
            N_("Only the staff of a job centre read its clients' comments; you see statistics.")
        )
    first_day = microdata.month_range(first)[0] if first else dt.date(2000, 1, 1)
    last_day = microdata.month_range(last)[1]
    masks = EN_MASKS if request.lang == "en" else MASKS
    names = {o.id: (o.organization, f"{o.code} {o.name}") for o in offices}
    start = first or await dashboard_queries.first_month(list(names))
    published = published_through(publication_day(settings))
    shown: dict[int, frozenset[str]] = {}
    if start is not None and start <= last:
        shown = await shown_months(
            list(names), start, last, min_n=settings.min_responses, published=published
        )
    reader = await open_reader(settings)
    await auth_queries.audit(
        "export", user_id=scope.user_id or None, username=scope.username, what="comments",
        via=via,
        filters={"from": first or "", "to": last, "office": str(request.office or "")},
    )  # fmt: skip

    async def body() -> AsyncIterator[bytes]:
        try:
            buf = io.StringIO()
            out = csv.writer(buf, delimiter=request.sep, lineterminator="\r\n")
            out.writerow(["jobcentre", "office", "year", "month", "item", "text"])
            yield ("\ufeff" + buf.getvalue()).encode()
            async for rows in reader.comments(list(names), first_day, last_day):
                buf = io.StringIO()
                out = csv.writer(buf, delimiter=request.sep, lineterminator="\r\n")
                for office, month, item, text in rows:
                    if month not in shown.get(office, ()):
                        continue  # the office page withholds this month's comments
                    masked = mask_personal_data(text, masks)
                    out.writerow(
                        [
                            *map(text_cell, names[office]),
                            month[:4],
                            int(month[5:7]),
                            item,
                            text_cell(masked),
                        ]
                    )
                yield buf.getvalue().encode()
        finally:
            await reader.close()

    return f"resonanz-comments-{first or 'start'}-{last}.csv", body()
