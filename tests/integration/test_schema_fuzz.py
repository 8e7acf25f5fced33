"""schemathesis against the app's own OpenAPI schema, through a real server: no 5xx, and
every answer (status, content type, body, headers) as the schema says, with every check
schemathesis has, on every operation of /api/v1 (respondents', results, administration,
exports). Bounded: a fixed number of examples per operation and a timeout.

`make test` runs the bounded fuzz (`BOUNDED`): schemathesis's fuzzing and stateful phases on
every operation (at most `EXAMPLES` generated requests each, positive and negative), and its
coverage phase on POST /api/v1/responses and GET /api/v1/links/{token}/questionnaire only
(with the submissions' alone, or without the phase, no generated submission was accepted).
`-m slow` runs the full fuzz (`FULL`): the coverage phase on every operation as well, which
sends each boundary and each invalid value of every parameter and body field the schema
defines, and each path with every method it does not have. That phase is not bounded by the
number of examples: it took some 30 of the suite's CPU seconds (2026-11-29).

The operations are fuzzed in parts by area (`PARTS`), one `st run` after the other against one
server and database (2026-11-30: one server and database each, side by side under xdist,
cost a second server's start, 2.2 s of CPU, and its database; the suite is bound by its CPU,
not by its waits). Every operation must answer at least one
request with the fuzz's token past its authorization and validation (2xx, or a refusal by
the handler's own rules: 409, 410, 422), and no such request may get 401.
The fuzz once locked itself out partway through (it revoked its own token, and in another
run promoted a colleague and then deactivated itself: schemathesis reuses the ids that
GET /api/v1/tokens and /users list), after which the rest of the administration API only
ever said 401. So the operations that can lock the fuzz out (`LAST`) run after the rest of
their part, by a schemathesis process of their own that has listed nothing: it names the
small ids, which belong to a colleague and to another token of the fuzz's, while the fuzz's
own user and token have an id no generated value names (`OWN_ID`).

schemathesis runs as its command (`st run`): its pytest plugin does not work with this
pytest (it reads a private attribute pytest 9 no longer has).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from survey.auth import guard
from survey.auth.passwords import hash_password
from survey.db import engine_lifespan, make_engine, migrate
from survey.demo import ensure_standard_questionnaire
from survey.settings import Settings
from survey.tables import ApiToken, Membership, Questionnaire, QuestionnaireVersion, Target, User
from tests.builders import (
    FULL_ANSWERS,
    make_link,
    make_network,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
)
from tests.conftest import POSTGRES_URL, _empty_postgres, run_async
from tests.crash import Server

EXAMPLES = 5
BOUNDED = "bounded"
FULL = "full"
COVERAGE = {
    BOUNDED: "[[operations]]\n"
    'include-path-regex = "^(?!/api/v1/(responses|links/\\\\{token\\\\}/questionnaire)$)"\n'
    "phases.coverage.enabled = false\n\n",
    FULL: "",
}
"""What each fuzz adds to tests/schemathesis.toml: the bounded one runs the coverage phase on
the submissions and a link's questionnaire only (not on a link's posters and slips, whose
every boundary value of `lang` rendered a PDF, nor on PATCH /api/v1/links/{link_id}, which
the pattern `links/` took in before: 2026-11-29, the two parts' CPU 31.4 -> 27.9 s)."""
CONFIG = Path(__file__).resolve().parent.parent / "schemathesis.toml"
LAST = r"^/api/v1/(tokens/\{token_id\}|users/\{user_id\}(/.*)?)$"
"""Revoking a token, deactivating a user, changing their roles or password: fuzzed after the
rest of their part, without the ids the rest has listed."""
OWN_ID = 1_357_913_579
"""The fuzz's own user and API token: far from the small ids and from the bounds
(1, 2**31 - 1) that generated path parameters name."""
PARTS = {
    # what respondents and readers of figures call (posters and slips: PDFs), first, on the
    # database as `_prepare` left it (the administration's fuzz switches links off) ...
    "respondents-results-exports": (
        r"^/(healthz|readyz|api/v1/(responses|links/\{token\}/.*|results/.*|exports/.*))$"
    ),
    # ... then the administration, the larger number of operations (each a cheaper call)
    "administration": r"^/api/v1/(?!responses$|links/\{token\}/|results/|exports/)",
}
"""Each operation is in exactly one part (checked on the schema the server serves). The fuzz
is the job centre's admin who also coordinates the network: networks and job centres too,
and the network's figures."""


async def _prepare(url: str, token: str) -> str:
    """Rows for the fuzz to find at the smallest ids, which generated path parameters name
    (a network, job centre, office, link, user, API token, target, draft questionnaire
    version), and the fuzz's own user (the job centre's admin and the network's
    coordinator), token and link."""
    engine = make_engine(Settings(database_url=url))
    await migrate(engine)
    async with engine_lifespan(engine, 2):
        network = await make_network()
        org = await make_organization(network=network)
        office = await make_office(organization=org)
        standard = await ensure_standard_questionnaire()
        await make_link(office)  # link 1, which PATCH /api/v1/links/1 may switch off
        await make_staff_user("kollegin", "correct-horse-battery", "manager", organization=org)
        await Target(
            office=office, item="_index", value=70,
            valid_from=dt.date(2030, 1, 1), valid_to=dt.date(2030, 12, 31),
        ).save()  # fmt: skip
        own = Questionnaire(organization=org, code="eigener", name="Eigener Fragebogen")
        await own.save()
        definition = (
            await QuestionnaireVersion.select(QuestionnaireVersion.definition)
            .where(QuestionnaireVersion.id == standard)
            .first()
        )
        assert definition is not None
        await QuestionnaireVersion(
            questionnaire=own.id, number=1, definition=definition["definition"]
        ).save()  # a draft: may be edited and published
        now = dt.datetime.now(dt.UTC)
        await User(id=OWN_ID, username="fuzz", password_hash=hash_password("correct-horse-battery"),
                   created_at=now).save()  # fmt: skip
        await Membership(user=OWN_ID, role="admin", organization=org).save()
        await Membership(user=OWN_ID, role="network", network=network).save()
        for token_id, value in ((None, guard.new_api_token()), (OWN_ID, token)):
            row = ApiToken(user=OWN_ID, name="fuzz", token_hash=guard.hash_token(value),
                           created_at=now)  # fmt: skip
            if token_id is not None:
                row.id = token_id
            await row.save()
        link = await make_link(office)
        # responses in the last complete month: the exports and results have rows to show
        month = dt.date.today().replace(day=1) - dt.timedelta(days=10)
        when = dt.datetime(month.year, month.month, 10, 10, tzinfo=dt.UTC)
        await make_responses(engine, link, [FULL_ANSWERS] * 6, when=when)
    return link.token


def _operations(schema: dict[str, object]) -> list[tuple[str, str]]:
    paths = schema["paths"]
    assert isinstance(paths, dict)
    return [
        (method.upper(), path)
        for path, methods in paths.items()
        for method in methods
        if method in ("get", "put", "post", "patch", "delete")
    ]


def _answers(har: Path, operations: list[tuple[str, str]], bearer: str) -> dict[str, set[int]]:
    """The statuses each operation answered to requests with the fuzz's own token."""
    patterns = [
        (method, path, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"))
        for method, path in operations
    ]
    seen: dict[str, set[int]] = defaultdict(set)
    for entry in json.loads(har.read_text())["log"]["entries"]:
        request = entry["request"]
        headers = {h["name"].lower(): h["value"] for h in request["headers"]}
        if headers.get("authorization") != bearer:
            continue  # schemathesis's own probes without it or with a wrong one
        path = re.sub(r"^https?://[^/]+", "", request["url"]).split("?")[0]
        for method, template, pattern in patterns:
            if method == request["method"] and pattern.match(path):
                seen[f"{method} {template}"].add(entry["response"]["status"])
                break
    return seen


SESSION_ONLY = frozenset({"POST /api/v1/tokens", "DELETE /api/v1/tokens/{token_id}"})
"""Operations a token may not call (a token makes and revokes no token): the fuzz, which
sends its token, must meet their 403 and never a success."""


@pytest.mark.parametrize(
    "fuzz",
    [BOUNDED, pytest.param(FULL, marks=pytest.mark.slow)],
)
def test_the_api_answers_as_its_schema_says(
    fuzz: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    token = guard.new_api_token()
    # on PostgreSQL where the suite has it (CI always): the production engine, the stricter
    # one (it refuses what SQLite stores, e.g. NUL), and about half the server's CPU of
    # SQLite, which opens a connection per query
    if POSTGRES_URL:
        url = request.getfixturevalue("postgres_migrated")
        _empty_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"
    link = run_async(_prepare(url, token))
    config = tmp_path / "schemathesis.toml"  # the shared rules, and a real link to reach
    config.write_text(
        f'[parameters]\n"path.token" = "{link}"\n\n' + COVERAGE[fuzz] + CONFIG.read_text()
    )
    server = Server(url, tmp_path, env={"RESONANZ_LINK_CACHE_SECONDS": "0"})
    server.start()
    try:
        schema = httpx.get(f"{server.base}/schema/openapi.json", timeout=30).json()
        operations = _operations(schema)
        for method, path in operations:
            parts = [name for name, regex in PARTS.items() if re.match(regex, path)]
            assert len(parts) == 1, (method, path, parts)
        hars = [tmp_path / f"{part}.har" for part in PARTS] + [tmp_path / "last.har"]
        selects = [
            ["--include-path-regex", regex, "--exclude-path-regex", LAST]
            for regex in PARTS.values()
        ] + [["--include-path-regex", LAST]]
        runs = [
            _st(st, config, server.base, token, select, har)
            for select, har in zip(selects, hars, strict=True)
        ]
    finally:
        server.stop()
    for run in runs:
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    counts = [re.search(r"(\d+) generated, (\d+) passed", run.stdout) for run in runs]
    assert all(c and c[1] == c[2] for c in counts), [run.stdout[-3000:] for run in runs]
    assert all(c and int(c[1]) > 100 for c in counts[:-1]), [run.stdout[-3000:] for run in runs]
    bearer = f"Bearer {token}"
    answers: dict[str, set[int]] = defaultdict(set)
    for har in hars:
        for op, statuses in _answers(har, operations, bearer).items():
            answers[op] |= statuses
    locked_out = sorted(op for op, statuses in answers.items() if 401 in statuses)
    assert locked_out == [], f"the fuzz's own token was refused: {locked_out}"
    for op in SESSION_ONLY & set(answers):  # the fuzz has a token: always refused
        assert not any(200 <= s < 300 for s in answers[op]), (op, answers[op])
        assert 403 in answers[op], (op, answers[op])
    unreached = [
        f"{m} {p}: {sorted(answers[f'{m} {p}'])}"
        for m, p in operations
        if f"{m} {p}" not in SESSION_ONLY
        and not any(200 <= s < 300 or s in (409, 410, 422) for s in answers[f"{m} {p}"])
    ]
    assert unreached == [], "operations no authorized request reached:\n" + "\n".join(unreached)
    print({op: sorted(statuses) for op, statuses in sorted(answers.items())})


def _st(
    st: str,
    config: Path,
    base: str,
    token: str,
    select: list[str],
    har: Path,
) -> subprocess.CompletedProcess[str]:
    """`st run` on the operations `select` (st's filter options) chooses, its requests and
    answers written to `har`."""
    # one worker: with two, schemathesis's coverage phase failed about one run in two with
    # CPython 3.11's "SystemError: AST constructor recursion depth mismatch"
    return subprocess.run(
        [st, "--config-file", str(config), "--no-color", "run",
         f"{base}/schema/openapi.json", "--checks", "all", *select,
         "--header", f"Authorization: Bearer {token}",
         "--max-examples", str(EXAMPLES), "--seed", "16", "--workers", "1",
         "--report", "har", "--report-har-path", str(har), "--output-sanitize", "false"],
        capture_output=True, text=True, timeout=600, cwd=config.parent,
    )  # fmt: skip
