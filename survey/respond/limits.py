"""Rate limits on submissions, per link and per client address, in memory and per process.

Token buckets: a bucket holds up to `burst` submissions and refills at `per_minute`. A kiosk
link gets buckets that fit a busy office and a tablet's offline queue arriving at once.
Addresses are never stored: a bucket's key is an HMAC of the address with a random key made
when the process starts (and gone when it ends), and buckets are dropped once full again.
With several processes (`serve --workers N`) each keeps its own buckets, so the limits
below hold per process: a client can get up to N times as far.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable

import msgspec


class Limit(msgspec.Struct, frozen=True):
    burst: int
    per_minute: float


LIMITS = {
    # a phone: a handful of people behind one address (a shared flat, a counseling NGO)
    ("address", "personal"): Limit(burst=10, per_minute=2),
    # a tablet sends its whole offline queue when the network returns
    ("address", "kiosk"): Limit(burst=300, per_minute=30),
    ("link", "personal"): Limit(burst=120, per_minute=30),
    ("link", "kiosk"): Limit(burst=300, per_minute=30),
}
MAX_BUCKETS = 100_000
"""Buckets kept at most; past that, the fullest are forgotten first (they limit nobody)."""


class Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def _address_key(self, address: str) -> str:
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()[:32]

    def check(self, link_token: str, mode: str, address: str | None) -> float:
        """Take one submission from the link's and the address' buckets: 0 when allowed,
        else the seconds until it would be (nothing is taken then)."""
        now = self._clock()
        kind = "kiosk" if mode == "kiosk" else "personal"
        keys = [(("link", kind), ("link", link_token))]
        if address:
            # a tablet's address has its own bucket beside the phones behind the same address
            keys.append((("address", kind), (f"address {kind}", self._address_key(address))))
        buckets = []
        wait = 0.0
        for limit_key, bucket_key in keys:
            limit = LIMITS[limit_key]
            bucket = self._refill(bucket_key, limit, now)
            buckets.append(bucket)
            if bucket.tokens < 1:
                wait = max(wait, (1 - bucket.tokens) * 60 / limit.per_minute)
        if wait:
            return wait
        for bucket in buckets:
            bucket.tokens -= 1
        if len(self._buckets) > MAX_BUCKETS:
            self._forget_full(now)
        return 0.0

    def _refill(self, key: tuple[str, str], limit: Limit, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(float(limit.burst), now)
        else:
            bucket.tokens = min(
                float(limit.burst), bucket.tokens + (now - bucket.stamp) * limit.per_minute / 60
            )
            bucket.stamp = now
        return bucket

    def _forget_full(self, now: float) -> None:
        """Drop buckets that would be full by now; then, if still too many, the oldest half."""
        full = [k for k, b in self._buckets.items() if now - b.stamp > 600]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) > MAX_BUCKETS:
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k].stamp)
            for key in oldest[: len(oldest) // 2]:
                del self._buckets[key]


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
