"""Comments on the office page: all of them, paged, with their count, searchable in the
masked text only."""

from __future__ import annotations

import hashlib
import hmac

from litestar import Litestar

from survey.dashboard.comments import PAGE_SIZE, comment_key, page_of
from survey.dashboard.schemas import Comment
from tests.builders import (
    FULL_ANSWERS,
    in_closed_month,
    make_link,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
)
from tests.conftest import StaffClient


def test_a_page_of_comments_counts_and_searches_the_masked_text() -> None:
    shown = [Comment(month="2026-09", text=f"Kommentar {k}", key=str(k)) for k in range(120)]
    shown.append(Comment(month="2026-09", text="Frau [Name] war freundlich", key="x"))
    first = page_of(shown, "", 1)
    assert (first.total, first.pages, first.first, first.last) == (121, 3, 1, PAGE_SIZE)
    last = page_of(shown, "", 99)  # past the end: the last page
    assert (last.page, last.first, last.last, len(last.comments)) == (3, 101, 121, 21)
    found = page_of(shown, "  FRAU ", 1)
    assert [c.key for c in found.comments] == ["x"] and found.query == "FRAU"
    assert page_of(shown, "Schneider", 1).total == 0


def test_a_comment_key_is_the_hmac_of_its_id() -> None:
    """The keys are worked out from HMAC's inner and outer hashes (a third of its cost): the
    same digests as `hmac.new`, whatever the secret's length (RFC 2104 hashes a long one)."""
    for secret in ("kurz", "x" * 64, "y" * 65, "schlüssel-" + "z" * 90):
        for comment_id in (1, 42, 2**31 - 1):
            mac = hmac.new(secret.encode(), f"comment|{comment_id}".encode(), hashlib.sha256)
            assert comment_key(secret, comment_id) == mac.hexdigest()[:24]


async def test_an_office_with_many_comments_pages_them_and_searches_them(
    staff: StaffClient, app: Litestar
) -> None:
    org = await make_organization()
    office = await make_office(organization=org)
    answers = [{**FULL_ANSWERS, "comment": f"Anmerkung Nummer {k}"} for k in range(70)]
    answers[7]["comment"] = "Herr Schneider am Empfang war sehr hilfsbereit"
    when = in_closed_month()
    await make_responses(app.state.engine, await make_link(office), answers, when=when)
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")
    api = (await staff.client.get(f"/api/v1/results/offices/{office}")).json()
    assert len(api["comments"]) == 70, "no silent cap"
    page = await staff.client.get(f"/dashboard/offices/{office}")
    assert page.text.count('data-testid="comment"') == PAGE_SIZE
    assert "70 Kommentare, 1–50 gezeigt" in page.text
    assert "comments_page=2" in page.text
    second = await staff.client.get(f"/dashboard/offices/{office}?comments_page=2")
    assert second.text.count('data-testid="comment"') == 20
    assert "70 Kommentare, 51–70 gezeigt" in second.text
    hit = await staff.client.get(f"/dashboard/offices/{office}?comments_q=empfang")
    assert hit.text.count('data-testid="comment"') == 1 and "Herr [Name]" in hit.text
    masked = await staff.client.get(f"/dashboard/offices/{office}?comments_q=Schneider")
    assert masked.text.count('data-testid="comment"') == 0, "the search sees masked text only"
    assert "Kein Kommentar dieses Zeitraums enthält diese Wörter." in masked.text
    for bad in ("abc", "-1", "99999999999"):
        answer = await staff.client.get(f"/dashboard/offices/{office}?comments_page={bad}")
        assert answer.status_code == 200, bad
