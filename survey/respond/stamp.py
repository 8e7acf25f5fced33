"""The signed issue time of a survey page: when the server handed out this form, for this link.

The form carries `issued=<unix seconds>.<mac>` (HMAC-SHA256 with the app's secret over the
link token and the time), so no cookie is needed to know how old a submission's page is:
a submission faster than a person can answer is flagged, and a deactivated kiosk link still
takes the answers its tablet queued from a page loaded before the deactivation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from functools import lru_cache

FAST_SECONDS = 5
"""A submission sooner than this after its page was served is stored but flagged."""
FUTURE_SLACK_SECONDS = 120
"""Clock difference between app processes tolerated for a time in the future."""


class ForgedStamp(ValueError):
    """The issue time was not signed by this app for this link (or lies in the future)."""


@lru_cache(maxsize=8)
def _keyed(secret: str) -> hmac.HMAC:
    """The HMAC keyed once per secret; each stamp copies it (the key's hashing is kept)."""
    key = hashlib.sha256(b"resonanz issue time|" + secret.encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _mac(secret: str, token: str, issued: int) -> str:
    mac = _keyed(secret).copy()
    mac.update(f"{token}|{issued}".encode())
    digest = mac.digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def make_stamp(secret: str, token: str, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return f"{issued}.{_mac(secret, token, issued)}"


def read_stamp(secret: str, token: str, stamp: str, now: float | None = None) -> int:
    """The issue time (unix seconds) of a stamp made for `token`; ForgedStamp otherwise."""
    raw_time, _, mac = stamp.partition(".")
    if not (raw_time.isascii() and raw_time.isdigit() and 0 < len(raw_time) <= 12 and mac):
        raise ForgedStamp("malformed issue time")
    issued = int(raw_time)
    if not hmac.compare_digest(mac.encode(), _mac(secret, token, issued).encode()):
        raise ForgedStamp("issue time not signed for this link")
    if issued > (time.time() if now is None else now) + FUTURE_SLACK_SECONDS:
        raise ForgedStamp("issue time in the future")
    return issued
