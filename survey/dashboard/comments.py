"""Comments on the office page: masked, by month, in an order unrelated to submission.

A month's comments are shown only when that month's cell of the office has at least the
minimum number of responses (protected count), so a comment cannot be tied to a figure
about fewer people. Within a month they are sorted by a keyed hash of their id, so their
order says nothing about who answered when. Masking of personal data is automatic and may
miss something; an admin can hide a comment.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence

import msgspec

from survey.dashboard import disclosure, queries, results
from survey.dashboard.cache import BoundedCache
from survey.dashboard.filters import months_between
from survey.dashboard.queries import CommentRow
from survey.dashboard.schemas import Comment, Filters
from survey.masking import mask_personal_data
from survey.questionnaire import INDEX_ITEM

PAGE_SIZE = 50
"""Comments on one page of the office page (the JSON API gives all of them)."""


def comment_key(secret: str, comment_id: int) -> str:
    """A keyed hash of a comment's id: its sort key and its name for an admin who hides it."""
    return _keyed(secret, [comment_id])[0]


def _keyed(secret: str, comment_ids: Iterable[int]) -> list[str]:
    """`comment_key` of each id: HMAC-SHA256 (RFC 2104) from its inner and outer hashes keyed
    once and copied per id: the digests of `hmac.new`, at a third of its cost per comment."""
    key = secret.encode()
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    out = []
    for comment_id in comment_ids:
        mac = inner.copy()
        mac.update(b"comment|%d" % comment_id)
        done = outer.copy()
        done.update(mac.digest())
        out.append(done.hexdigest()[:24])
    return out


_BLOCK = hashlib.sha256().block_size


def arrange(
    rows: Iterable[CommentRow],
    shown_months: Iterable[str],
    secret: str,
    masks: Mapping[str, str],
) -> list[Comment]:
    """The comments of the months in `shown_months`, newest month first, each month in the
    order of its keyed hashes, masked."""
    allowed = set(shown_months)
    shown = [r for r in rows if r.month in allowed]
    by_month: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r, key in zip(shown, _keyed(secret, (r.id for r in shown)), strict=True):
        by_month[r.month].append((key, r.text))
    out = []
    for month in sorted(by_month, reverse=True):
        for key, text in sorted(by_month[month]):
            out.append(Comment(month=month, text=mask_personal_data(text, masks), key=key))
    return out


async def shown_months(
    office_ids: Sequence[int], first_month: str, last_month: str, *, min_n: int, published: str
) -> dict[int, frozenset[str]]:
    """Per office, the months of `first_month`–`last_month` whose comments may be shown
    outside the office page (the comments export): those whose published index has at least
    `min_n` responses, as on the office page (`results.month_index` on the office's protected
    table; months after `published` have no figure). Noise and blocks are per office, so the
    offices read together give each the figures its page shows."""
    grid, last = results.view_grid(office_ids, [INDEX_ITEM], first_month, last_month, min_n,
                                   published)  # fmt: skip
    items, span = tuple(grid.levels), grid.months
    if not office_ids or last < span[0]:
        return {o: frozenset() for o in office_ids}
    view = Filters(first_month, last_month, first_month, last_month)
    counts = await queries.count_columns(
        list(office_ids), items, view, await queries.rolled(), span[0], last
    )
    table = disclosure.protect(counts, grid)
    months = months_between(first_month, min(last_month, last))
    return {
        o: frozenset(m for m in months if results.month_index(table, o, m, min_n)[1])
        for o in office_ids
    }


class CommentPage(msgspec.Struct):
    comments: list[Comment]
    total: int
    """Comments found (all of the period, or those containing the search words)."""
    page: int
    pages: int
    query: str
    first: int
    """Number of the first comment on this page (1 on the first page)."""
    last: int


def page_of(shown: Sequence[Comment], query: str, page: int, size: int = PAGE_SIZE) -> CommentPage:
    """One page of the comments that contain `query` (case-insensitive). The search looks at
    the masked text only, so it cannot confirm a name that the masking replaced."""
    words = query.strip()[:100]
    wanted = words.casefold()
    found = [c for c in shown if wanted in c.text.casefold()] if wanted else list(shown)
    pages = max(1, -(-len(found) // size))
    page = min(max(page, 1), pages)
    start = (page - 1) * size
    on_page = found[start : start + size]
    return CommentPage(
        on_page, len(found), page, pages, words, first=start + 1, last=start + len(on_page)
    )


class Listing:
    """The comments of an office's period as read, and their arranged forms (per shown months,
    secret and language of the masks) once worked out."""

    MAX_ARRANGED = 8

    def __init__(self, rows: list[CommentRow], changed: object) -> None:
        self.rows = rows
        self.changed = changed
        self.nbytes = 1024 + sum(64 + 2 * len(r.text) for r in rows)
        self._arranged: dict[Hashable, list[Comment]] = {}

    def arrange(
        self, shown_months: Sequence[str], secret: str, masks: Mapping[str, str]
    ) -> list[Comment]:
        key = (tuple(shown_months), secret, tuple(sorted(masks.items())))
        found = self._arranged.get(key)
        if found is None:
            if len(self._arranged) >= self.MAX_ARRANGED:
                self._arranged.clear()
            found = self._arranged[key] = arrange(self.rows, shown_months, secret, masks)
        return found


async def listing(cache: BoundedCache, office_id: int, filters: Filters, closed: bool) -> Listing:
    """The office's comments in the period of `filters`. When every month of the period is
    closed (`closed`: no response arrives in it any more), the list is kept in `cache` and read
    again only when a comment was hidden or deleted since (`queries.comments_changed`, one row
    read per view), so an admin's hide shows at once in every process."""
    if not closed:
        return Listing(await queries.comments(office_id, filters), None)
    # the mark is read before the comments: a change in between makes the next view read
    # them again, so a stale list is never kept under the new mark
    changed = await queries.comments_changed()
    key = ("comments", office_id, filters.first_month, filters.last_month,
           filters.service_type, filters.locale, filters.mode)  # fmt: skip
    kept = cache.get(key)
    if isinstance(kept, Listing) and kept.changed == changed:
        return kept
    found = Listing(await queries.comments(office_id, filters), changed)
    cache.put(key, found, found.nbytes)
    return found
