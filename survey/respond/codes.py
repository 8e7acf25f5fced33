"""One-time codes for slips: each is valid for one response of its link, so a link passed
around cannot stuff the ballot.

Only an HMAC of a code is kept (with the app's secret and the link), and a code once used is
marked used and nothing else: no time, no submission id, nothing that leads from a code (or
the slip's recipient) to a response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from survey.tables import SlipCode

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O and no 1/I: a code is read off paper and typed."""
LENGTH = 8
"""32^8 ≈ 10^12 codes per link: guessing one among a few hundred takes billions of tries,
and the rate limits allow a few per minute."""
_NOT_CODE = re.compile(r"[^A-Z0-9]")


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize(code: str) -> str:
    """As typed: any case, with or without the hyphen or spaces."""
    return _NOT_CODE.sub("", code.upper())[: LENGTH * 2]


def code_hash(secret: str, link_id: int, code: str) -> str:
    message = f"slip code|{link_id}|{normalize(code)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def make_codes(secret: str, link_id: int, count: int) -> list[str]:
    made = [new_code() for _ in range(count)]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    await SlipCode.insert(
        *[
            SlipCode(link=link_id, code_hash=code_hash(secret, link_id, c), created_at=now)
            for c in made
        ]
    )
    return made


async def claim(secret: str, link_id: int, code: str) -> bool:
    """Mark an unused code of this link used; False when it is unknown or used already."""
    if not normalize(code):
        return False
    claimed = (
        await SlipCode.update({SlipCode.used: True})
        .where(
            (SlipCode.link == link_id)
            & (SlipCode.code_hash == code_hash(secret, link_id, code))
            & (SlipCode.used == False)  # noqa: E712  (a Piccolo expression)
        )
        .returning(SlipCode.id)
    )
    return bool(claimed)


async def release(secret: str, link_id: int, code: str) -> None:
    """Give a claimed code back when its response could not be stored."""
    await SlipCode.update({SlipCode.used: False}).where(
        (SlipCode.link == link_id) & (SlipCode.code_hash == code_hash(secret, link_id, code))
    )
