"""Comments on the office page: masked, by month, in an order unrelated to submission.

A month's comments are shown only when that month's cell of the office has at least the
minimum number of responses (protected count), so a comment cannot be tied to a figure
about fewer people. Within a month they are sorted by a keyed hash of their id, so their
order says nothing about who answered when. Masking of personal data is automatic and may
miss something; an admin can hide a comment.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from survey.dashboard.queries import CommentRow
from survey.dashboard.schemas import Comment

PER_MONTH = 30
"""Most comments shown per month."""


def comment_key(secret: str, comment_id: int) -> str:
    """A keyed hash of a comment's id: its sort key and its name for an admin who hides it."""
    return hmac.new(secret.encode(), f"comment|{comment_id}".encode(), hashlib.sha256).hexdigest()[
        :24
    ]


def arrange(
    rows: Iterable[CommentRow],
    shown_months: Iterable[str],
    secret: str,
    masks: Mapping[str, str],
    per_month: int = PER_MONTH,
) -> list[Comment]:
    """The comments of the months in `shown_months`, newest month first, each month in the
    order of its keyed hashes, masked, at most `per_month` a month."""
    allowed = set(shown_months)
    by_month: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        if r.month in allowed:
            by_month[r.month].append((comment_key(secret, r.id), r.text))
    out = []
    for month in sorted(by_month, reverse=True):
        for key, text in sorted(by_month[month])[:per_month]:
            out.append(Comment(month=month, text=mask_personal_data(text, masks), key=key))
    return out


# ---- personal data (kept here until survey/masking.py takes it over) -----------------------

MASKS = {
    "email": "[E-Mail]",
    "customer": "[Kundennummer]",
    "phone": "[Telefon]",
    "name": "[Name]",
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CUSTOMER = re.compile(r"(?<!\w)\d{3}[\s-]?[A-Za-z][\s-]?\d{3}[\s-]?\d{3}(?!\w)")
"""123D456789, also written 123-D-456789 or 123 D 456 789."""
_PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d(?:[ /()-]{0,2}\d){5,}(?!\w)")
"""Six or more digits, optionally separated by spaces, slashes, dashes or brackets (not
dots, so dates such as 24.11.2026 stay)."""
_DEGREE = (
    r"(?:Prof\.|Dr\.|Dipl\.-?\s?[^\W\d_]+\.|PD|(?:med|dent|vet|phil|jur|rer\.\s?nat|h\.\s?c)\.)"
)
_NAME = re.compile(
    rf"\b(?P<title>(?:(?i:frau|herrn?)|[Hh]r|[Ff]r)\b\.?)(?P<degrees>(?:\s+{_DEGREE})*)"
    r"(?=(?P<tail>(?:\s+[^\W\d_][\w'-]*){1,6}))"
)
"""A title in any case (Frau, Herr, Herrn, Hr, Fr, with or without dot) and degrees; the
words after it are looked at by _name_length."""
_WORD = re.compile(r"\s+[^\W\d_][\w'-]*")
PARTICLES = frozenset({"von", "van", "de", "der", "den", "del", "della", "di", "da", "du",
                       "dos", "zu", "zum", "zur", "ten", "ter", "la", "le", "al", "el", "ibn",
                       "bin", "bint", "abu"})  # fmt: skip
"""Lowercase name particles: "Frau von der Heide", "Herr al-Hassan"."""


def _name_length(tail: str) -> int:
    """How many characters of `tail` are a name: up to two capitalised words, each possibly
    after lowercase particles ("Anna von der Heide", "de Vries", "al-Hassan")."""
    words = _WORD.findall(tail)
    end = i = 0
    for _ in range(2):
        j = i
        while j < len(words) and words[j].strip() in PARTICLES:
            j += 1
        if j < len(words) and _is_name_word(words[j].strip()):
            end = i = j + 1
        else:
            break
    return sum(len(w) for w in words[:end])


def _is_name_word(word: str) -> bool:
    """A capitalised word, or one joined to a particle: "al-Hassan", "d'Angelo"."""
    if word[0].isupper():
        return True
    joined = re.match(r"([^\W\d_]+)[-'](.)", word)
    return joined is not None and joined[1] in PARTICLES | {"d", "o"} and joined[2].isupper()


def _mask_names(text: str, label: str) -> str:
    out, pos = [], 0
    while match := _NAME.search(text, pos):
        length = _name_length(match["tail"])
        out.append(text[pos : match.end()] if not length else text[pos : match.start()])
        if length:
            out.append(f"{match['title']}{match['degrees']} {label}")
        pos = match.end() + length
    out.append(text[pos:])
    return "".join(out)


def mask_personal_data(text: str, masks: Mapping[str, str] = MASKS) -> str:
    """Replace e-mail addresses, customer numbers (123D456789), phone numbers and the names
    after Frau/Herr/Herrn/Hr/Fr in any case (titles and degrees kept, particles masked).

    Order matters: e-mail addresses and customer numbers before phone numbers.
    """
    text = _EMAIL.sub(masks["email"], text)
    text = _CUSTOMER.sub(masks["customer"], text)
    text = _PHONE.sub(masks["phone"], text)
    return _mask_names(text, masks["name"])
