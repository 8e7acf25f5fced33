"""One client's pass through a kiosk without JavaScript, from the language choice to the thanks.

Without JavaScript no screen can replace the one before in the tablet's history: after the
reset, Back reaches the survey form at /k/<token>?lang=<the last client's>. So the start
screen's language buttons carry a fresh random visit key, and the form of that visit gets a
submission id derived from it (an HMAC, so the address in the history does not give the id
away). Once that response is stored, the visit's form address leads to the start screen in
the tablet's language, and its form sent again to the neutral thank-you page: the next client
learns neither the last one's language nor their answers.

The HMAC's key is not the app's secret but a random key of this process, replaced every
KEY_HOURS and forgotten after two (the one before still answers, so a visit that spans a
change is recognised; a key past its time is dropped when next looked at, however long
nobody used the kiosk). With the app's secret the id would be an exact, lasting join of
each visit in the tablet's history (visit keys with their times to the second) to its
response for whoever holds the secret and the database; this way it adds none once the
key is gone. It does not make responses unlinkable on its own: a response keeps its hour,
language and a serial id, so the order of a tablet's visits within an hour can still match
them (docs/operations.md, the kiosk's history). What the process key costs: after a restart,
or on another worker process, Back to a sent visit's form shows it again, empty, in that
visit's language (never the answers).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid

_KEY = re.compile(r"[A-Za-z0-9_-]{16}")


def new_visit() -> str:
    return secrets.token_urlsafe(12)


def read_visit(raw: str | None) -> str | None:
    """The visit key of a request, or None when there is none or it is not one of ours."""
    return raw if raw is not None and _KEY.fullmatch(raw) else None


KEY_HOURS = 6
_keys: list[tuple[float, bytes]] = []
"""(made at, key), newest first: the current key and the one before."""


def _current_keys() -> list[bytes]:
    now = time.monotonic()
    _keys[:] = [(made, key) for made, key in _keys if now - made < 2 * KEY_HOURS * 3600]
    if not _keys or now - _keys[0][0] >= KEY_HOURS * 3600:
        _keys.insert(0, (now, secrets.token_bytes(32)))
        del _keys[2:]
    return [key for _, key in _keys]


def _derived(key: bytes, token: str, visit: str) -> uuid.UUID:
    mac = hmac.new(key, f"kiosk visit|{token}|{visit}".encode(), hashlib.sha256)
    return uuid.UUID(bytes=mac.digest()[:16], version=4)


def visit_submission_id(token: str, visit: str) -> uuid.UUID:
    """The submission id of the visit's form, under this process's current key."""
    return _derived(_current_keys()[0], token, visit)


def visit_submission_ids(token: str, visit: str) -> list[uuid.UUID]:
    """The ids the visit's form may have been given: under the current key and the one
    before."""
    return [_derived(key, token, visit) for key in _current_keys()]
