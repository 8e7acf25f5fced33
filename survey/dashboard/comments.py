"""Comments on the office page: masked, by month, in an order unrelated to submission.

A month's comments are shown only when that month's cell of the office has at least the
minimum number of responses (protected count), so a comment cannot be tied to a figure
about fewer people. Within a month they are sorted by a keyed hash of their id, so their
order says nothing about who answered when. Masking of personal data is automatic and may
miss something; an admin can hide a comment.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import msgspec

from survey.dashboard.queries import CommentRow
from survey.dashboard.schemas import Comment
from survey.masking import mask_personal_data

PAGE_SIZE = 50
"""Comments on one page of the office page (the JSON API gives all of them)."""


def comment_key(secret: str, comment_id: int) -> str:
    """A keyed hash of a comment's id: its sort key and its name for an admin who hides it."""
    return hmac.new(secret.encode(), f"comment|{comment_id}".encode(), hashlib.sha256).hexdigest()[
        :24
    ]


def arrange(
    rows: Iterable[CommentRow],
    shown_months: Iterable[str],
    secret: str,
    masks: Mapping[str, str],
) -> list[Comment]:
    """The comments of the months in `shown_months`, newest month first, each month in the
    order of its keyed hashes, masked."""
    allowed = set(shown_months)
    by_month: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        if r.month in allowed:
            by_month[r.month].append((comment_key(secret, r.id), r.text))
    out = []
    for month in sorted(by_month, reverse=True):
        for key, text in sorted(by_month[month]):
            out.append(Comment(month=month, text=mask_personal_data(text, masks), key=key))
    return out


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
