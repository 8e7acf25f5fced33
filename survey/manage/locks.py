"""Check-then-write without a race: a transaction in which the rows a rule depends on hold
still until it commits.

Two requests at once can each pass a check that only one of them may pass (two admins
deactivating each other, two overlapping targets of one office). On SQLite the transaction
is IMMEDIATE (the write lock from its start); on PostgreSQL `lock_sql` (a `SELECT ... FOR
UPDATE` of the rows the rule is about) makes the second request wait, then check again.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from survey.tables import Organization


@contextlib.asynccontextmanager
async def held(lock_sql: str, *args: object) -> AsyncIterator[None]:
    db = Organization._meta.db
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
        return
    async with db.transaction():
        await Organization.raw(lock_sql, *args)
        yield
