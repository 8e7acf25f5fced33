"""One client's pass through a kiosk without JavaScript, from the language choice to the thanks.

Without JavaScript no screen can replace the one before in the tablet's history: after the
reset, Back reaches the survey form at /k/<token>?lang=<the last client's>. So the start
screen's language buttons carry a fresh random visit key, and the form of that visit gets a
submission id derived from it (an HMAC under the app's secret: the address in the history
does not give the id away). Once that response is stored, the visit's form address leads to
the start screen in the tablet's language, and its form sent again to the neutral thank-you
page: the next client learns neither the last one's language nor their answers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid

_KEY = re.compile(r"[A-Za-z0-9_-]{16}")


def new_visit() -> str:
    return secrets.token_urlsafe(12)


def read_visit(raw: str | None) -> str | None:
    """The visit key of a request, or None when there is none or it is not one of ours."""
    return raw if raw is not None and _KEY.fullmatch(raw) else None


def visit_submission_id(secret: str, token: str, visit: str) -> uuid.UUID:
    mac = hmac.new(secret.encode(), f"kiosk visit|{token}|{visit}".encode(), hashlib.sha256)
    return uuid.UUID(bytes=mac.digest()[:16], version=4)
