"""Who is asking, and what their roles let them see."""

from __future__ import annotations

import msgspec

DASHBOARD_ROLES = frozenset({"network", "admin", "manager"})
EXPORT_ROLES = frozenset({"network", "admin", "manager", "researcher"})
ROLES = ("network", "admin", "manager", "researcher")


class OfficeRef(msgspec.Struct, frozen=True):
    id: int
    name: str
    code: str
    organization_id: int
    organization: str


class Scope(msgspec.Struct, frozen=True):
    """A signed-in user's roles, the offices they may see and their comparison group.

    `visible` are the offices whose results the user may read; `group` are the offices their
    results are compared with (the whole network, or the job centre when it has none).
    Figures of other offices in the group only ever enter pooled statistics.
    """

    user_id: int
    username: str
    display_name: str
    locale: str
    roles: tuple[str, ...]
    visible: frozenset[int]
    group: tuple[OfficeRef, ...]
    group_name: str
    csrf: str = ""
    via_token: bool = False
    exportable: frozenset[int] = frozenset()
    """Offices whose anonymized responses the user may export (researchers: only this)."""
    administered: frozenset[int] = frozenset()
    """Offices of the job centres (or the single offices) the user is an admin of: where
    they may hide a comment. A network role sees more offices but administers none."""
    readable: frozenset[int] = frozenset()
    """Offices whose clients' comments the user may read: those of their own job centre
    (an admin or manager role there). A network role sees the member job centres'
    statistics only: the survey's privacy notice tells clients that comments are read by
    the staff of the job centre and that other job centres see statistics, never single
    answers. Always a part of `visible`."""
    limit: frozenset[int] = frozenset()
    """The job centres an API token is limited to (empty: not limited, or a session). The
    offices above are already narrowed to them; the administration narrows its reach by it
    (survey/manage/access.py), on the JSON API and the HTML pages alike."""

    def reads_comments_of(self, office_id: int) -> bool:
        return office_id in self.readable

    @property
    def may_see_dashboards(self) -> bool:
        return bool(self.visible) and any(r in DASHBOARD_ROLES for r in self.roles)

    @property
    def may_export(self) -> bool:
        return bool(self.exportable)

    def sees(self, office_id: int) -> bool:
        return office_id in self.visible

    @property
    def visible_offices(self) -> list[OfficeRef]:
        return [o for o in self.group if o.id in self.visible]

    @property
    def organizations(self) -> dict[int, str]:
        return {o.organization_id: o.organization for o in self.group}


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    csrf_token: str = ""
    next: str = ""
