"""Failed sign-ins, counted per account and source, decided by one atomic UPDATE.

A source is either a browser that signed in to this account before (it holds a signed
device cookie naming the account) or "anyone else". Wrong passwords from anyone else lock
only anyone else out: the account's owner, on a browser they signed in with before, keeps
signing in with their own count (OWASP's "device cookies"). So a stranger who guesses one
password every few minutes cannot keep the owner out, and a lock no longer ends sessions.

Every attempt first claims a try in one UPDATE (counted as a failure), and only then is the
password checked; success clears the count. However many attempts arrive at once, at most
LOCK_AFTER of them are checked before the lock holds. Once a lock has run out, or after
LOCK_SECONDS without a failure, counting starts again from one (a failure count that stayed at
LOCK_AFTER would make every later wrong guess a new lock). Unknown names are counted under a
hash of the name, so they behave exactly like known ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from survey.tables import LoginThrottle

LOCK_AFTER = 5
"""Failed sign-ins in a row (per account and source) after which that source is locked."""
LOCK_SECONDS = 15 * 60
"""How long a lock holds; also how long a failure counts towards one."""
DEVICE_COOKIE = "resonanz_device"
DEVICE_SECONDS = 365 * 24 * 3600
_CLEANUP_EVERY_SECONDS = 600.0
_last_cleanup = [0.0]


def _mac(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def device_cookie_value(secret: str, user_id: int) -> str:
    body = f"{user_id}.{secrets.token_urlsafe(12)}"
    return f"{body}.{_mac(secret, 'device|' + body)}"


def device_of(secret: str, value: str | None, user_id: int) -> str | None:
    """The device id of a valid device cookie for this account, else None."""
    if not value or value.count(".") != 2:
        return None
    body, _, mac = value.rpartition(".")
    if not hmac.compare_digest(mac.encode(), _mac(secret, "device|" + body).encode()):
        return None
    owner, device = body.split(".")
    return device if owner == str(user_id) else None


def key_for(user_id: int | None, username: str, device: str | None) -> str:
    if user_id is None:
        name = hashlib.sha256(username.casefold().encode()).hexdigest()[:40]
        return f"n:{name}"
    return f"u:{user_id}:{device}" if device else f"u:{user_id}:-"


_CLAIM = """
UPDATE login_throttle SET
  failures = CASE WHEN locked_until IS NOT NULL OR last_at < {} THEN 1 ELSE failures + 1 END,
  locked_until = CASE
    WHEN (CASE WHEN locked_until IS NOT NULL OR last_at < {} THEN 1 ELSE failures + 1 END) >= {}
    THEN CAST({} AS DOUBLE PRECISION) ELSE NULL END,
  last_at = CAST({} AS DOUBLE PRECISION)
WHERE source = {} AND (locked_until IS NULL OR locked_until <= {})
RETURNING failures
"""


async def claim(key: str, now: float | None = None) -> tuple[bool, int]:
    """Count one attempt for `key` before its password is checked.

    Returns (may check the password, failures in a row including this one); (False, n) while
    the key is locked.
    """
    now = time.time() if now is None else now
    await LoginThrottle.raw(
        "INSERT INTO login_throttle (source, failures, locked_until, last_at) "
        "VALUES ({}, 0, NULL, CAST({} AS DOUBLE PRECISION)) ON CONFLICT (source) DO NOTHING",
        key,
        now,
    )
    stale = now - LOCK_SECONDS
    rows = await LoginThrottle.raw(
        _CLAIM, stale, stale, LOCK_AFTER, now + LOCK_SECONDS, now, key, now
    )
    await _cleanup(now)
    if rows:
        return True, int(rows[0]["failures"])
    return False, LOCK_AFTER


async def clear(key: str) -> None:
    """A right password: the count of this account and source starts again."""
    await LoginThrottle.delete().where(LoginThrottle.source == key)
    await _cleanup()


async def locked(key: str, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    row = (
        await LoginThrottle.select(LoginThrottle.locked_until)
        .where(LoginThrottle.source == key)
        .first()
    )
    return bool(row and row["locked_until"] is not None and row["locked_until"] > now)


async def locked_users(user_ids: list[int], now: float | None = None) -> set[int]:
    """Those of `user_ids` whose account is locked for strangers (the source "anyone else")."""
    now = time.time() if now is None else now
    keys = [key_for(user_id, "", None) for user_id in user_ids] or ["-"]
    rows = await LoginThrottle.select(LoginThrottle.source).where(
        LoginThrottle.source.is_in(keys) & (LoginThrottle.locked_until > now)
    )
    return {int(str(r["source"]).split(":")[1]) for r in rows}


async def unlock(user_id: int) -> None:
    """An administrator's unlock: every source of the account may try again, and so may a
    password change locked by wrong current passwords (`account.throttle_key`, whose locked
    message sends the user to an administrator)."""
    await LoginThrottle.delete().where(
        LoginThrottle.source.like(f"u:{user_id}:%") | (LoginThrottle.source == f"c:{user_id}")
    )


async def _cleanup(now: float | None = None) -> None:
    """Forget counts nobody added to for a day (each process at most every ten minutes)."""
    now = time.time() if now is None else now
    if now - _last_cleanup[0] < _CLEANUP_EVERY_SECONDS:
        return
    _last_cleanup[0] = now
    await LoginThrottle.delete().where(LoginThrottle.last_at < now - 24 * 3600)
