"""Red team of the disclosure control (issue 10): attacks by a manager of one office with
nothing but the dashboards, the results API and the office's own survey link (it is printed
on the poster in the waiting room). Each test plays one attack and asserts that it fails;
a test that fails here is an open hole, described in its docstring.

SQLite only: the attacks go through HTTP and the protected table, which are the same on both
engines.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
from litestar import Litestar
from scipy import stats

from survey.app import lifespan
from survey.dashboard.filters import today
from survey.respond.schemas import LinkInfo
from survey.respond.stamp import make_stamp
from survey.settings import Settings
from survey.tables import Membership
from tests.builders import (
    FULL_ANSWERS,
    make_link,
    make_network,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
)
from tests.conftest import SECRET, StaffClient, app_for

ITEMS = ("respect", "understood", "explained", "next_steps", "fits", "waiting", "overall")
"""The five-level items."""
PASSWORD = "a-long-password-1"


@dataclass
class Scene:
    app: Litestar
    staff: httpx.AsyncClient
    public: httpx.AsyncClient
    office: int
    link: LinkInfo
    month: str

    @property
    def token(self) -> str:
        return self.link.token

    async def submit(self, answers: dict[str, object], locale: str = "de") -> None:
        payload = {
            "link": self.token,
            "submission_id": str(uuid.uuid4()),
            "locale": locale,
            "answers": answers,
            # the form as the survey page served it a minute ago (the attacker loads the
            # poster's link and waits): signed and not too fast, so the answer is counted
            "issued": make_stamp(SECRET, self.token, time.time() - 60),
        }
        answer = await self.public.post("/api/v1/responses", json=payload)
        assert answer.status_code == 201, answer.text

    async def office_result(
        self, first: str = "", last: str = "", **params: str
    ) -> dict[str, object]:
        query = {"from": first or self.month, "to": last or self.month, **params}
        answer = await self.staff.get(f"/api/v1/results/offices/{self.office}", params=query)
        assert answer.status_code == 200, answer.text
        result: dict[str, object] = answer.json()
        return result


def item_counts(result: dict[str, object]) -> dict[str, list[int]] | None:
    """Published counts per item, or None when the figure is withheld."""
    items = result["items"]
    assert isinstance(items, list)
    out = {i["item"]: i["counts"] for i in items if i["item"] in ITEMS}
    if any(c is None for c in out.values()) or not out:
        return None
    return out


@pytest.fixture
def app(sqlite_settings: Settings) -> Litestar:
    return app_for(sqlite_settings)


@pytest.fixture
async def scene(app: Litestar) -> AsyncIterator[Scene]:
    transport = httpx.ASGITransport(app=app)
    async with (
        lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as staff,
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as public,
    ):
        office = await make_office()
        link = await make_link(office, mode="personal", service_type="benefits")
        await make_staff_user("mallory", PASSWORD, "manager", office=office)
        login = await StaffClient(staff).login("mallory", PASSWORD)
        assert login.status_code in (302, 303), login.text
        yield Scene(app, staff, public, office, link, today().strftime("%Y-%m"))


def _answers(level: int) -> dict[str, object]:
    return {**FULL_ANSWERS, **dict.fromkeys(ITEMS, level)}


async def test_injected_responses_do_not_average_away_the_noise_of_a_small_cell(
    scene: Scene,
) -> None:
    """Attack: one client answered in Arabic this month (the manager saw them). The manager
    sends answers of their own through the office's public link, in Arabic, one at a time,
    and after each one reads the office's Arabic figure for the month in progress. Every
    new response re-keys the cell, so every look carries fresh noise; the manager subtracts
    what they sent and averages: the client's answer to every item comes out."""
    victim = {**FULL_ANSWERS, **dict(zip(ITEMS, [1, 2, 5, 1, 2, 5, 1], strict=False))}
    await scene.submit(victim, locale="ar")
    sent = {item: [0] * 5 for item in ITEMS}
    total = {item: [0.0] * 5 for item in ITEMS}
    looks = 0
    for i in range(40):
        level = i % 5 + 1  # spread over all levels: no level of the figure goes below zero
        await scene.submit(_answers(level), locale="ar")
        for item in ITEMS:
            sent[item][level - 1] += 1
        counts = item_counts(await scene.office_result(language="ar"))
        if counts is None:
            continue
        looks += 1
        for item in ITEMS:
            for k in range(5):
                total[item][k] += counts[item][k] - sent[item][k]
    # The attack needs the figure of the month in progress. Where it is never shown (a month
    # is published once it is over: issue 10), every look is empty and the vote below has
    # nothing to go on; where it is shown, it must have been shown often enough to average.
    assert looks == 0 or looks >= 20
    guessed = {item: max(range(5), key=lambda k: total[item][k]) + 1 for item in ITEMS}
    right = sum(guessed[item] == victim[item] for item in ITEMS)
    # chance: 7 items × 1/5 = 1.4 right
    assert right <= 3, f"the attacker read {right} of the client's 7 answers: {guessed}"


async def test_watching_the_month_in_progress_does_not_show_who_answered_what(
    scene: Scene,
) -> None:
    """Attack: the manager reads the month in progress right before and right after a client
    answers, in the four views that contain the new response (no filter, its service type,
    its language, its mode). Each view's cell is re-keyed by the new response, so each
    difference is +1 at the client's answer plus fresh noise; four views voted together
    point at the answer far more often than chance (20 %)."""
    for i in range(25):  # every view shown, every level well above zero
        await scene.submit(_answers(i % 5 + 1))
    views = [{}, {"service_type": "benefits"}, {"language": "de"}, {"mode": "personal"}]
    right = guesses = 0
    for victim_no in range(10):
        levels = [(victim_no + j) % 5 + 1 for j in range(len(ITEMS))]
        victim = {**FULL_ANSWERS, **dict(zip(ITEMS, levels, strict=True))}
        before = [item_counts(await scene.office_result(**v)) for v in views]
        await scene.submit(victim)
        after = [item_counts(await scene.office_result(**v)) for v in views]
        # a view that is not shown (the month in progress is published once it is over:
        # issue 10) counts as zeros before and after: it adds nothing to the vote
        zeros = dict.fromkeys(ITEMS, [0] * 5)
        before = [zeros if b is None else b for b in before]
        after = [zeros if a is None else a for a in after]
        for item in ITEMS:
            votes = [0.0] * 5
            for b, a in zip(before, after, strict=True):
                for k in range(5):
                    votes[k] += a[item][k] - b[item][k]
            guesses += 1
            right += max(range(5), key=lambda k: votes[k]) + 1 == victim[item]
    # chance 20 %: 70 guesses give 14 right on average; 25 or more happen by chance < 0.1 %
    assert right < 25, f"{right} of {guesses} answers read off the month in progress"


async def test_a_new_comment_does_not_appear_while_its_author_is_still_in_the_building(
    scene: Scene,
) -> None:
    """Attack: the office page lists the comments of the month in progress; the manager
    reloads it after each client, and the one comment that is new belongs to the client who
    just left the room."""
    for i in range(25):
        await scene.submit({**_answers(i % 5 + 1), "comment": f"Alles in Ordnung, Nummer {i}."})
    first = await scene.office_result()
    seen = {c["text"] for c in first["comments"]}  # type: ignore[union-attr]
    await scene.submit({**_answers(1), "comment": "Ich wurde heute schlecht behandelt."})
    second = await scene.office_result()
    now = {c["text"] for c in second["comments"]}  # type: ignore[union-attr]
    assert now == seen, f"the comment of the client who just left appeared: {now - seen}"


def _month_back(back: int) -> tuple[str, dt.datetime]:
    """The month `back` months before the current one, and ten o'clock on its tenth day."""
    now = today()
    index = now.year * 12 + now.month - 1 - back
    year, month = divmod(index, 12)
    return f"{year:04d}-{month + 1:02d}", dt.datetime(year, month + 1, 10, 10, tzinfo=dt.UTC)


async def test_closed_months_do_not_give_away_a_lone_client_through_four_views(
    scene: Scene,
) -> None:
    """Attack: in ten closed months the office had one client each (between two months with
    20 answers, so every period the attacker asks for is shown). For each such month M the
    attacker takes, in each of the four views that hold the client (no filter, service type,
    language, mode), the difference of two allowed periods: 11..M minus 11..M+1. Each view's
    cell of month M has its own noise, so the four differences voted together read the
    client's answers item by item. Chance: 20 % of the items, a full answer vector (seven
    items) once in 78,000 tries."""
    engine = scene.app.state.engine
    padding = [_answers(i % 5 + 1) for i in range(20)]
    for back in (11, 0):
        await make_responses(engine, scene.link, padding, when=_month_back(back)[1])
    rng = random.Random(7)
    planted: dict[int, dict[str, int]] = {}
    for back in range(1, 11):
        planted[back] = {item: rng.randint(1, 5) for item in ITEMS}
        answers = {**FULL_ANSWERS, **planted[back]}
        await make_responses(engine, scene.link, [answers], when=_month_back(back)[1])
    views = [{}, {"service_type": "benefits"}, {"language": "de"}, {"mode": "personal"}]
    start = _month_back(11)[0]
    periods = {
        view_no: {
            last: item_counts(await scene.office_result(start, _month_back(last)[0], **view))
            for last in range(11, -1, -1)
        }
        for view_no, view in enumerate(views)
    }
    right = vectors = 0
    for back in range(1, 11):
        guess = {}
        for item in ITEMS:
            votes = [0.0] * 5
            for view_no in range(len(views)):
                with_it, without = periods[view_no][back], periods[view_no][back + 1]
                assert with_it is not None and without is not None
                for k in range(5):
                    votes[k] += with_it[item][k] - without[item][k]
            guess[item] = max(range(5), key=lambda k: votes[k]) + 1
        right += sum(guess[item] == planted[back][item] for item in ITEMS)
        vectors += guess == planted[back]
    # 70 guesses: chance gives 14 right; 25 or more happen by chance < 0.1 %
    assert right < 25 and vectors == 0, f"{right} of 70 answers, {vectors} of 10 full vectors"


async def test_effect_sizes_against_a_withheld_group_do_not_give_its_index_back(
    scene: Scene,
) -> None:
    """Attack: the manager of job centre A (three offices) sees the network's index withheld
    ("would reveal a single office or job centre": the network is A and one other job centre
    B). Yet each of A's offices is shown with its effect size against the rest of the
    network (rank-biserial r), its index, n and interval. With the normal approximation
    r ≈ 2Φ(d/(σ√2)) − 1 each r gives the mean of "network minus this office"; three such
    means are three linear equations in B's n and B's sum, solved by least squares: the
    withheld network index, and B's, come back."""
    engine = scene.app.state.engine
    net = await make_network()
    a, b = await make_organization(network=net), await make_organization(network=net)
    month = _month_back(1)[1]
    mix = {"a1": (10, 20, 40, 20, 10), "a2": (5, 10, 30, 35, 20), "a3": (2, 5, 15, 40, 38),
           "b1": (20, 35, 30, 10, 5), "b2": (15, 30, 35, 15, 5)}  # fmt: skip
    for name, counts in mix.items():
        office = await make_office(organization=a if name.startswith("a") else b)
        link = await make_link(office)
        answers = [_answers(level) for level, c in enumerate(counts, 1) for _ in range(c)]
        await make_responses(engine, link, answers, when=month)
    await make_staff_user("mara", PASSWORD, "manager", organization=a)
    coordinator = await make_staff_user("nico", PASSWORD, "network")
    await Membership.update({Membership.network: net}).where(Membership.user == coordinator)

    await StaffClient(scene.staff).login("nico", PASSWORD)
    truth = (await scene.staff.get("/api/v1/results/overview")).json()
    await StaffClient(scene.staff).login("mara", PASSWORD)
    seen = (await scene.staff.get("/api/v1/results/overview")).json()
    assert seen["group_index"] is None  # withheld from the manager
    # the model's difference from the average is a difference from the withheld figure too
    assert all(r["difference"] is None for r in seen["rows"]), seen["rows"]
    assert {r["model_verdict"] for r in seen["rows"]} <= {"withheld", "too few responses"}
    bench = (await scene.staff.get("/api/v1/results/benchmark")).json()
    assert bench["target"] is None and all(r["shrunken"] is None for r in bench["rows"])
    assert {r["model_verdict"] for r in bench["rows"]} <= {"withheld", "too few responses"}
    rows = [r for r in seen["rows"] if r["effect_size"] is not None and r["n"]]
    if len(rows) < 2:
        return  # nothing to solve with: the attack fails
    n = np.array([r["n"] for r in rows], dtype=float)
    mean = np.array([r["index"] for r in rows])
    se = np.array([(r["index_high"] - r["index_low"]) / (2 * 1.96) for r in rows])
    sigma = float(np.sqrt(np.average((se * np.sqrt(n)) ** 2, weights=n)))
    rest_mean = mean - sigma * np.sqrt(2) * stats.norm.ppf((np.array([r["effect_size"]
                                                             for r in rows]) + 1) / 2)  # fmt: skip
    total_n, total_sum = n.sum(), float(n @ mean)
    # rest_mean_i · (total_n − n_i + m) = total_sum − n_i·mean_i + S, unknowns m and S
    lhs = np.column_stack([rest_mean, -np.ones_like(rest_mean)])
    rhs = total_sum - n * mean - rest_mean * (total_n - n)
    (m, s_b), *_ = np.linalg.lstsq(lhs, rhs, rcond=None)
    estimate = (total_sum + s_b) / (total_n + m)
    error = abs(estimate - truth["group_index"])
    assert error > 2, (
        f"withheld network index {truth['group_index']} estimated as {estimate:.2f} "
        f"(job centre B: n ≈ {m:.0f}, index ≈ {s_b / m:.1f})"
    )


async def test_flooding_a_month_gives_the_attacker_one_noisy_look_at_the_client(
    scene: Scene,
) -> None:
    """Attack (flooding; OPEN, bounded here): in each of ten months one real client answered,
    and the manager sent nine answers of their own through the office's link in the same
    month, so the month is a block of 10 and is published. The manager reads, from a month
    with 20 answers before them all, the figure through the month minus the one through the
    month before, subtracts their own answers and takes the level that grew. Blocks cannot stop
    this (the nine are real responses to the server); the noise only blurs it. Each block
    is seen through exactly one difference of two running totals (variance 1 per level),
    whatever the periods asked, so the attacker reads about half of the answers (chance:
    a fifth) and cannot average more looks out of other periods: with a fresh noise per
    period (each published figure perturbed on its own) every answer would come out.
    bench/disclosure.py measures the rate (and what more views add)."""
    engine = scene.app.state.engine
    rng = random.Random(11)
    planted, own = {}, {}
    padding = [_answers(i % 5 + 1) for i in range(20)]
    await make_responses(engine, scene.link, padding, when=_month_back(11)[1])
    for back in range(1, 11):
        planted[back] = {item: rng.randint(1, 5) for item in ITEMS}
        own[back] = [{item: rng.randint(1, 5) for item in ITEMS} for _ in range(9)]
        answers = [{**FULL_ANSWERS, **a} for a in [planted[back], *own[back]]]
        await make_responses(engine, scene.link, answers, when=_month_back(back)[1])
    right = 0
    for back in range(1, 11):
        start = _month_back(11)[0]
        through = item_counts(await scene.office_result(start, _month_back(back)[0]))
        before = item_counts(await scene.office_result(start, _month_back(back + 1)[0]))
        assert through is not None and before is not None, "blocks of 10 are published"
        for item in ITEMS:
            mine = [sum(a[item] == k + 1 for a in own[back]) for k in range(5)]
            grew = [t - b - m for t, b, m in zip(through[item], before[item], mine, strict=True)]
            right += max(range(5), key=lambda k: grew[k]) + 1 == planted[back][item]
    # one look of variance 1 per level: 30 of 70 here (bench/disclosure.py: 46-48 %);
    # chance 14; looks averaged over periods would give nearly 70
    assert right < 50, f"{right} of 70 answers read by flooding"
