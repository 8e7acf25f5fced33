"""Rows in random order, in flat memory: an external shuffle through temporary bucket files.

The database hands out rows fastest in the order they were stored, which is the order of
submission; a row's position would then tell when it came in (finer than the published
month, and finer than a quarter for a generalized row). So every row first goes to one of
B bucket files chosen at random (B = rows / 50,000, rounded up), and the buckets are then
read one at a time and shuffled in memory: a uniformly random order, with at most one
bucket in memory. The files live in a private temporary directory that is removed however
the export ends.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from contextlib import aclosing
from pathlib import Path

import numpy as np

BUCKET_ROWS = 50_000


class Shuffle:
    def __init__(self, names: Sequence[str], rows: int) -> None:
        self.names = list(names)
        self.buckets = max(1, math.ceil(rows / BUCKET_ROWS))
        self.dir = Path(tempfile.mkdtemp(prefix="resonanz-export-"))
        self.rng = np.random.default_rng()  # seeded from the operating system

    def _path(self, bucket: int) -> Path:
        return self.dir / f"bucket{bucket}.i32"

    def add(self, columns: Mapping[str, np.ndarray]) -> None:
        block = np.column_stack([columns[n].astype(np.int32) for n in self.names])
        where = self.rng.integers(0, self.buckets, len(block))
        # grouped by bucket in one sort instead of one pass over the chunk per bucket (the
        # order within a bucket does not matter: each is shuffled when it is read)
        grouped = block[np.argsort(where)]
        ends = np.cumsum(np.bincount(where, minlength=self.buckets))
        for bucket, part in enumerate(np.split(grouped, ends[:-1])):
            if len(part):
                with self._path(bucket).open("ab") as f:
                    part.tofile(f)

    def buckets_in_random_order(self) -> Iterator[dict[str, np.ndarray]]:
        width = len(self.names)
        for bucket in range(self.buckets):
            path = self._path(bucket)
            if not path.exists():
                continue
            block = np.fromfile(path, dtype=np.int32).reshape(-1, width)
            path.unlink()
            # one row per variable, in random order: each column contiguous in memory
            columns = np.take(block.T, self.rng.permutation(len(block)), axis=1)
            yield {n: columns[i] for i, n in enumerate(self.names)}

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


async def shuffled(
    chunks: AsyncGenerator[dict[str, np.ndarray], None], names: Sequence[str], rows: int
) -> AsyncGenerator[dict[str, np.ndarray], None]:
    """The rows of `chunks` (in any order) in a random order, chunk by chunk."""
    import asyncio

    shuffle = Shuffle(names, rows)
    try:
        async with aclosing(chunks):
            async for columns in chunks:
                await asyncio.to_thread(shuffle.add, columns)
        buckets = shuffle.buckets_in_random_order()

        while True:
            columns = await asyncio.to_thread(next, buckets, {})
            if not columns:
                break
            yield columns
    finally:
        shuffle.close()
