"""A signed-in user's own account: changing their password.

The current password is checked like a sign-in: each attempt first claims a try of the
account's own count (source `c:<user id>`, apart from sign-in's so that a stranger's wrong
sign-ins do not block the owner's change, and the reverse), throttle.LOCK_AFTER wrong ones
in a row lock the change for 15 minutes, and each failure waits as long as a failed sign-in.

A new password ends every other session of the user (their session epoch is raised; the
browser that changed it gets a new cookie): the usual reason to change a password is that
someone else may know it, and a session they opened with it would otherwise outlive the
change by up to ten hours. The form also revokes the user's API tokens, ticked by default when
they have any (a token made by whoever knew the password would otherwise outlive the change
until it expires); untick it to keep scripts running, the tokens page lists each with its
last use.
"""

from __future__ import annotations

import asyncio

from survey.auth import guard, queries, throttle
from survey.auth.passwords import hash_password, password_problem, verify_password
from survey.errors import Invalid, TooManyRequests
from survey.i18n import N_
from survey.tables import User

CURRENT_WRONG = N_("The current password is wrong.")
CHANGE_LOCKED = N_(
    "Too many wrong current passwords in a row. Wait 15 minutes and try again, or ask an "
    "administrator of your job centre for a reset link."
)
SAME_AS_BEFORE = N_("The new password must differ from the current one.")
DIFFERENT = N_("The two passwords differ.")


def throttle_key(user_id: int) -> str:
    return f"c:{user_id}"


async def change_password(
    user_id: int, username: str, current: str, new: str, repeated: str, *,
    revoke_tokens: bool = False,
) -> int:  # fmt: skip
    """Check the current password, set the new one, end the user's other sessions (and, with
    `revoke_tokens`, revoke their API tokens).

    Returns the user's new session epoch (for the new cookie of the browser that asked)."""
    key = throttle_key(user_id)
    may_try, failures = await throttle.claim(key)
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    stored = str(row["password_hash"]) if row else ""
    checked = may_try and await asyncio.to_thread(verify_password, stored, current)
    if not checked:
        await queries.audit(
            "password_change_failed",
            user_id=user_id,
            username=username,
            reason="locked" if not may_try else "wrong password",
            failures=failures,
        )
        await asyncio.sleep(guard.failure_delay(failures))
        if not may_try or failures >= throttle.LOCK_AFTER:
            raise TooManyRequests(CHANGE_LOCKED, {"retry_after": throttle.LOCK_SECONDS})
        raise Invalid(CURRENT_WRONG)
    await throttle.clear(key)
    problem = password_problem(new, username)
    if problem is not None:
        raise Invalid(problem)
    if new != repeated:
        raise Invalid(DIFFERENT)
    if new == current:
        raise Invalid(SAME_AS_BEFORE)
    password_hash = await asyncio.to_thread(hash_password, new)
    async with User._meta.db.transaction():
        await User.update({User.password_hash: password_hash}).where(User.id == user_id)
        await queries.end_sessions(user_id)
        revoked = await queries.revoke_tokens(user_id) if revoke_tokens else 0
        await queries.audit(
            "password_changed", user_id=user_id, username=username, other_sessions="ended",
            tokens_revoked=revoked,
        )  # fmt: skip
    epoch = await User.select(User.session_epoch).where(User.id == user_id).first()
    return int(epoch["session_epoch"] or 0) if epoch else 0
