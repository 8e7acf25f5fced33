"""Rows in random order, in flat memory: an external shuffle through temporary bucket files.

The database hands out rows fastest in the order they were stored, which is the order of
submission; a row's position would then tell when it came in (finer than the published
month, and finer than a quarter for a generalized row). So every row first goes to one of
B bucket files chosen at random (B = rows / 50,000, rounded up), and the buckets are then
read one at a time and shuffled in memory: a uniformly random order, with at most one
bucket in memory. The rows go in as read (cell key, version, packed answers: the true
values, published only when a bucket is read) to a private temporary directory that is
removed however the export ends.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import weakref
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing
from pathlib import Path

import numpy as np

BUCKET_ROWS = 50_000


class Shuffle:
    """Rows of `width` integers (the row query's, before they are published) in bucket files."""

    def __init__(self, width: int, rows: int) -> None:
        self.width = width
        self.buckets = max(1, math.ceil(rows / BUCKET_ROWS))
        self.dir = Path(tempfile.mkdtemp(prefix="resonanz-export-"))
        self.rng = np.random.default_rng()  # seeded from the operating system
        # removed also if the export is dropped without being closed (a body never started)
        self._remove = weakref.finalize(self, shutil.rmtree, self.dir, ignore_errors=True)

    def _path(self, bucket: int) -> Path:
        return self.dir / f"bucket{bucket}.i64"

    def add(self, block: np.ndarray) -> None:
        """A (rows, width) int64 array."""
        where = self.rng.integers(0, self.buckets, len(block))
        # grouped by bucket in one sort instead of one pass over the chunk per bucket (the
        # order within a bucket does not matter: each is shuffled when it is read)
        grouped = np.ascontiguousarray(block[np.argsort(where)], dtype=np.int64)
        ends = np.cumsum(np.bincount(where, minlength=self.buckets))
        for bucket, part in enumerate(np.split(grouped, ends[:-1])):
            if len(part):
                with self._path(bucket).open("ab") as f:
                    part.tofile(f)

    def buckets_in_random_order(self) -> Iterator[np.ndarray]:
        for bucket in range(self.buckets):
            path = self._path(bucket)
            if not path.exists():
                continue
            block = np.fromfile(path, dtype=np.int64).reshape(-1, self.width)
            path.unlink()
            yield block[self.rng.permutation(len(block))]

    def close(self) -> None:
        self._remove()


async def shuffled(
    blocks: AsyncGenerator[np.ndarray, None] | None, shuffle: Shuffle
) -> AsyncGenerator[np.ndarray, None]:
    """The rows of `blocks` (in any order; None: already in the shuffle) in a random order,
    bucket by bucket. The shuffle's files are removed however this ends."""
    import asyncio

    try:
        if blocks is not None:
            async with aclosing(blocks):
                async for block in blocks:
                    await asyncio.to_thread(shuffle.add, block)
        buckets = shuffle.buckets_in_random_order()
        empty = np.zeros((0, shuffle.width), dtype=np.int64)
        while True:
            block = await asyncio.to_thread(next, buckets, empty)
            if block is empty:
                break
            yield block
    finally:
        shuffle.close()
