"""What the respondent API takes and gives."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec


class SubmissionIn(msgspec.Struct, forbid_unknown_fields=True):
    link: str
    submission_id: uuid.UUID
    answers: dict[str, Any]
    locale: str = "de"
    issued: str | None = None
    """The signed issue time of the page the answers were given on (`issued` form field)."""
    code: str | None = None
    """The one-time code from a slip, for links that ask for one."""


class SubmissionOut(msgspec.Struct):
    submission_id: uuid.UUID
    link: str
    status: str = "stored"


class ItemOut(msgspec.Struct):
    code: str
    type: str
    text: str
    required: bool
    min: int | None = None
    max: int | None = None
    labels: dict[str, str] = {}


class QuestionnaireOut(msgspec.Struct):
    link: str
    locale: str
    dir: str
    office: str
    organization: str
    title: str
    version: int
    items: list[ItemOut]
    issued: str = ""
    """The signed issue time to send back with the response (see SubmissionIn.issued)."""


class LinkInfo(msgspec.Struct, frozen=True):
    id: int
    token: str
    office_id: int
    office: str
    organization: str
    version_id: int
    version: int
    service_type: str
    mode: str
    active: bool
    organization_id: int = 0
    deactivated_at: float | None = None
    """Unix time `active` was switched off (None: never, or not known)."""
    idle_seconds: int = 60
    codes_required: bool = False
