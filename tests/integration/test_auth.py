"""Staff sign in and out: sessions, CSRF, delays and lockout, API tokens, the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from survey.auth import guard, throttle
from survey.auth.passwords import PROFILE_VARIABLE
from survey.settings import Settings
from survey.tables import ApiToken, AuditLog, LoginThrottle, User
from tests.builders import (
    FULL_ANSWERS,
    make_link,
    make_office,
    make_organization,
    make_staff_user,
)
from tests.conftest import ONE_ENGINE, StaffClient

PASSWORD = "correct-horse-battery"


async def _user(username: str = "alice", role: str = "manager", org: int | None = None) -> int:
    org = org or await make_organization()
    await make_office(organization=org)
    return await make_staff_user(username, PASSWORD, role, organization=org, display_name=username)


async def _throttle(user_id: int, device: str = "-") -> dict[str, Any]:
    row = (
        await LoginThrottle.select().where(LoginThrottle.source == f"u:{user_id}:{device}").first()
    )
    assert row is not None
    return row


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The growing delay is tested on its own; here it would only slow the suite down."""
    monkeypatch.setattr(guard, "DELAY_BASE_SECONDS", 0.0)


async def test_it_signs_in_with_an_httponly_lax_session_cookie(staff: StaffClient) -> None:
    await _user()
    answer = await staff.login("alice", PASSWORD)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "resonanz_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    assert (await staff.client.get("/dashboard")).status_code == 200
    assert await AuditLog.count().where(AuditLog.action == "login") == 1


def test_it_marks_the_cookie_secure_when_served_over_https() -> None:
    cookie = guard.session_cookie(Settings(secure_cookies=True), "x")
    assert cookie.secure and cookie.httponly and cookie.samesite == "lax"


async def test_it_answers_unknown_users_and_wrong_passwords_alike_and_locks_after_repeats(
    staff: StaffClient,
) -> None:
    user_id = await _user()
    unknown = await staff.login("mallory", PASSWORD)
    wrong = await staff.login("alice", "not-the-password")
    assert unknown.status_code == wrong.status_code == 401
    message = "Unbekannter Benutzername oder falsches Passwort."
    assert message in unknown.text and message in wrong.text
    for _ in range(throttle.LOCK_AFTER - 2):
        await staff.login("alice", "still-wrong")
    fifth = await staff.login("alice", "still-wrong")
    row = await _throttle(user_id)
    assert row["failures"] == throttle.LOCK_AFTER
    assert row["locked_until"] is not None
    wait = "Warten Sie 15 Minuten"
    assert wait in fifth.text and message not in fifth.text, "the lock says what to do"
    locked = await staff.login("alice", PASSWORD)
    assert locked.status_code == 401 and wait in locked.text
    for _ in range(throttle.LOCK_AFTER):  # an unknown name reads exactly the same
        stranger = await staff.login("mallory", PASSWORD)
    assert wait in stranger.text
    assert (await staff.client.get("/dashboard")).status_code == 303
    failures = await AuditLog.select(AuditLog.detail).where(AuditLog.action == "login_failed")
    assert len(failures) == 2 * throttle.LOCK_AFTER + 2
    assert await AuditLog.count().where(AuditLog.action == "login") == 0


def test_it_waits_longer_after_each_failure_up_to_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "DELAY_BASE_SECONDS", 0.25)
    delays = [guard.failure_delay(n) for n in range(1, 10)]
    assert delays == sorted(delays) and delays[0] < delays[3]
    assert max(delays) == guard.DELAY_MAX_SECONDS


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_it_refuses_forms_without_a_valid_csrf_token(staff: StaffClient) -> None:
    await _user()
    no_token = await staff.client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert no_token.status_code == 403
    await staff.client.get("/login")
    forged = await staff.client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert (await staff.login("alice", PASSWORD)).status_code == 303
    for path, data in (("/logout", {}), ("/account/language", {"lang": "en"})):
        answer = await staff.client.post(path, data={**data, "csrf_token": "forged"})
        assert answer.status_code == 403, path
    assert (await staff.client.get("/dashboard")).status_code == 200


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_non_ascii_cookies_and_csrf_tokens_are_refused_not_a_500(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """r27: hmac.compare_digest on str raises TypeError for a non-ASCII character, so an
    "ä" in the session, done or device cookie or in a form's csrf_token gave a 500."""
    await _user()
    await staff.login("alice", PASSWORD)
    session = client.cookies.get(guard.SESSION_COOKIE) or ""
    signed_in = await client.get("/account")
    assert signed_in.status_code == 200
    for path, cookie in (
        ("/account?done=password", f"{guard.SESSION_COOKIE}={session}; {guard.DONE_COOKIE}=a.1.ä"),
        ("/login?done=password", f"{guard.DONE_COOKIE}=a.1.ä"),
        ("/dashboard", f"{guard.SESSION_COOKIE}=3.1.1796004343.x.ä"),
    ):
        async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as bare:
            answer = await bare.get(path, headers={"cookie": cookie.encode()})
        assert answer.status_code in (200, 303), (path, answer.status_code, answer.text[:300])
    for path in ("/login", "/account/password", "/logout"):
        refused = await client.post(path, data={"csrf_token": "ä", "username": "alice"})
        assert refused.status_code == 403, (path, refused.status_code, refused.text[:300])
    assert guard.read_done("secret", "a.1.ä") is None
    assert not guard.csrf_ok("secret", "nonce", "ä")


async def test_it_signs_out_and_switches_the_language(staff: StaffClient) -> None:
    await _user()
    await staff.login("alice", PASSWORD)
    token = await staff.csrf()
    switched = await staff.client.post(
        "/account/language", data={"lang": "en", "next": "/dashboard", "csrf_token": token}
    )
    assert switched.status_code == 303
    assert "Client satisfaction by office" in (await staff.client.get("/dashboard")).text
    assert "Kundenzufriedenheit" in (await staff.client.get("/dashboard?lang=de")).text
    out = await staff.client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert (await staff.client.get("/dashboard")).headers["location"].startswith("/login")
    assert await AuditLog.count().where(AuditLog.action == "logout") == 1


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_it_never_redirects_to_another_host(staff: StaffClient) -> None:
    await _user()
    form = await staff.client.get("/login?next=//evil.example/dashboard")
    assert 'value="/dashboard"' in form.text
    answer = await staff.login("alice", PASSWORD)
    assert answer.headers["location"] == "/dashboard"


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_it_sets_no_cookie_on_respondent_routes_even_for_signed_in_staff(
    staff: StaffClient,
) -> None:
    await _user()
    await staff.login("alice", PASSWORD)
    link = await make_link()
    client = staff.client
    answers = [
        await client.get(f"/s/{link.token}"),
        await client.get(f"/api/v1/links/{link.token}/questionnaire"),
        await client.post(
            "/api/v1/responses",
            json={"link": link.token, "submission_id": str(uuid.uuid4()), "answers": FULL_ANSWERS},
        ),
        await client.get("/static/css/respond.css"),
    ]
    for answer in answers:
        assert answer.status_code < 300, answer.url
        assert "set-cookie" not in answer.headers, answer.url


async def test_it_accepts_bearer_tokens_and_refuses_anonymous_api_calls(
    client: httpx.AsyncClient,
) -> None:
    user_id = await _user()
    token = guard.new_api_token()
    await ApiToken(
        user=user_id, name="script", token_hash=guard.hash_token(token),
        created_at=dt.datetime.now(dt.UTC),
    ).save()  # fmt: skip
    anonymous = await client.get("/api/v1/results/overview")
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "Please sign in."
    bad_period = "?from=2000-01-01&to=2000-01-01&filter="
    for path in ("overview", "benchmark", "offices/1"):  # credentials before the query
        answer = await client.get(f"/api/v1/results/{path}{bad_period}")
        assert answer.status_code == 401, (path, answer.text)
    wrong = await client.get(
        "/api/v1/results/overview", headers={"authorization": "Bearer rz_unknown"}
    )
    assert wrong.status_code == 401
    ok = await client.get("/api/v1/results/overview", headers={"authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.text
    assert "set-cookie" not in ok.headers
    await ApiToken.update({ApiToken.revoked: True}).where(ApiToken.user == user_id)
    revoked = await client.get(
        "/api/v1/results/overview", headers={"authorization": f"Bearer {token}"}
    )
    assert revoked.status_code == 401


async def test_it_counts_parallel_failures_and_locks_the_account(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """Attempts racing each other must not overwrite one another's failure count."""
    user_id = await _user()
    form = await client.get("/login")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    attempts = await asyncio.gather(
        *(
            client.post("/login", data={"username": "alice", "password": f"guess-{i}",
                                        "csrf_token": token})
            for i in range(12)
        )
    )  # fmt: skip
    assert [a.status_code for a in attempts] == [401] * 12
    row = await _throttle(user_id)
    assert row["failures"] == throttle.LOCK_AFTER, "the lock holds: no more tries are counted"
    assert row["locked_until"] is not None
    assert (await staff.login("alice", PASSWORD)).status_code == 401, "locked, even if right"


async def test_it_delays_unknown_names_as_it_delays_known_ones(
    staff: StaffClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _user()
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(guard, "DELAY_BASE_SECONDS", 0.25)
    monkeypatch.setattr("survey.auth.routes.asyncio.sleep", fake_sleep)
    for _ in range(3):
        await staff.login("alice", "wrong-password")
    known = list(waited)
    waited.clear()
    for _ in range(3):
        await staff.login("nobody-by-this-name", "wrong-password")
    assert waited == known == [0.25, 0.5, 1.0]


async def test_it_refuses_a_name_with_control_characters_like_an_unknown_one(
    staff: StaffClient,
) -> None:
    await _user()
    answer = await staff.login("ali\x00ce", PASSWORD)
    assert answer.status_code == 401
    logged = await AuditLog.select(AuditLog.username).where(AuditLog.action == "login_failed")
    assert logged == [{"username": "alice"}]


async def test_it_ends_every_session_of_a_user_on_sign_out(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    await _user()
    await staff.login("alice", PASSWORD)
    copied = client.cookies.get(guard.SESSION_COOKIE)
    assert copied
    client.cookies.clear()
    client.cookies.set(guard.SESSION_COOKIE, copied)
    assert (await client.get("/dashboard")).status_code == 200, "the copy works before"
    token = await staff.csrf()
    assert (await client.post("/logout", data={"csrf_token": token})).status_code == 303
    client.cookies.set(guard.SESSION_COOKIE, copied)
    assert (await client.get("/dashboard")).status_code == 303, "a copied cookie is dead too"
    api = await client.get("/api/v1/results/overview")
    assert api.status_code == 401


async def _token(user_id: int, **values: object) -> str:
    token = guard.new_api_token()
    await ApiToken(
        user=user_id, name="script", token_hash=guard.hash_token(token),
        created_at=dt.datetime.now(dt.UTC), **values,
    ).save()  # fmt: skip
    return token


async def test_it_gives_new_tokens_90_days_and_refuses_expired_ones(
    client: httpx.AsyncClient,
) -> None:
    user_id = await _user()
    fresh = await _token(user_id)
    expiry = await ApiToken.select(ApiToken.expires_at).first()
    assert expiry is not None
    left = expiry["expires_at"] - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=89) < left <= dt.timedelta(days=90)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    expired = await _token(user_id, expires_at=past)
    without = await _token(user_id, expires_at=None)
    url = "/api/v1/results/overview"
    assert (await client.get(url, headers={"authorization": f"Bearer {fresh}"})).status_code == 200
    for token in (expired, without):
        answer = await client.get(url, headers={"authorization": f"Bearer {token}"})
        assert answer.status_code == 401
        assert answer.json()["detail"] == "The API token has expired."


@pytest.mark.parametrize("change", ["deactivated", "locked"])
async def test_it_refuses_the_token_of_a_deactivated_or_locked_user_at_once(
    client: httpx.AsyncClient, change: str
) -> None:
    user_id = await _user()
    token = await _token(user_id)
    url, auth = "/api/v1/results/overview", {"authorization": f"Bearer {token}"}
    assert (await client.get(url, headers=auth)).status_code == 200
    if change == "deactivated":
        await User.update({User.active: False}).where(User.id == user_id)
    else:
        until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        await User.update({User.locked_until: until}).where(User.id == user_id)
    refused = await client.get(url, headers=auth)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The account of this API token is deactivated or locked."
    assert refused.headers["www-authenticate"].startswith("Bearer")


async def _form_token(client: httpx.AsyncClient) -> str:
    form = await client.get("/login")
    return form.text.split('name="csrf_token" value="')[1].split('"')[0]


async def test_it_checks_at_most_lock_after_passwords_of_a_burst_and_none_once_locked(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 wrong guesses (four times LOCK_AFTER) and the right password at the same moment:
    only the first LOCK_AFTER tries are checked at all, so the burst is no faster than
    guessing in turn.
    At argon2's production cost (the suite's default is the cheapest), so that each check
    takes as long as it will for a real attacker and the attempts overlap. The tries refused
    unchecked still check the dummy hash, so that they take as long as a check (for timing
    alone: nothing here reads it); here that stand-in answers at once, as it would (False),
    without the 16 production-cost hashes of it (about 5 s of CPU a run)."""
    from survey.auth import routes

    dummy = routes._dummy()  # made before the production cost is switched on: never checked
    monkeypatch.setenv(PROFILE_VARIABLE, "production")
    await _user()
    checked: list[str] = []
    real_verify = routes.verify_password

    def counting_verify(password_hash: str, password: str) -> bool:
        if password_hash == dummy:
            return False
        checked.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(routes, "verify_password", counting_verify)
    token = await _form_token(client)
    guesses = [f"guess-{i}" for i in range(4 * throttle.LOCK_AFTER)] + [PASSWORD]
    attempts = await asyncio.gather(
        *(
            client.post("/login", data={"username": "alice", "password": guess,
                                        "csrf_token": token})
            for guess in guesses
        )
    )  # fmt: skip
    assert len(checked) <= throttle.LOCK_AFTER, checked
    signed_in = [g for g, a in zip(guesses, attempts, strict=True) if a.status_code == 303]
    assert signed_in in ([], [PASSWORD])
    if signed_in:
        assert PASSWORD in checked
    else:
        again = await client.post(
            "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
        )
        assert again.status_code == 401, "locked: the right password is not even checked"
        assert len(checked) <= throttle.LOCK_AFTER


async def _browser_login(client: httpx.AsyncClient, password: str) -> httpx.Response:
    """Sign in keeping the browser's cookies (its device cookie among them)."""
    token = await _form_token(client)
    return await client.post(
        "/login", data={"username": "alice", "password": password, "csrf_token": token}
    )


async def test_it_lets_the_owner_in_on_a_known_browser_while_strangers_are_locked_out(
    app: object, client: httpx.AsyncClient
) -> None:
    await _user()
    assert (await _browser_login(client, PASSWORD)).status_code == 303
    assert client.cookies.get(throttle.DEVICE_COOKIE)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as other:
        for _ in range(throttle.LOCK_AFTER + 3):
            assert (await _browser_login(other, "wrong-guess")).status_code == 401
        assert (await _browser_login(other, PASSWORD)).status_code == 401, "strangers locked"
    assert (await client.get("/dashboard")).status_code == 200, "the lock ends no session"
    assert (await _browser_login(client, PASSWORD)).status_code == 303, "the owner gets in"
    forged = client.cookies.get(throttle.DEVICE_COOKIE, path="/login")
    assert forged
    client.cookies.clear()
    client.cookies.set(throttle.DEVICE_COOKIE, forged[:-4] + "AAAA", path="/login")
    assert (await _browser_login(client, PASSWORD)).status_code == 401, "a forged one is nobody"


async def test_it_counts_from_one_again_once_a_lock_has_run_out(
    staff: StaffClient,
) -> None:
    """A lock that ran out must not leave the count at the limit (one wrong guess every
    15 minutes would keep the account locked for ever)."""
    user_id = await _user()
    for _ in range(throttle.LOCK_AFTER):
        await staff.login("alice", "wrong-guess")
    assert (await staff.login("alice", PASSWORD)).status_code == 401
    source = f"u:{user_id}:-"
    past = (await _throttle(user_id))["locked_until"] - throttle.LOCK_SECONDS - 1
    await LoginThrottle.update(
        {LoginThrottle.locked_until: past, LoginThrottle.last_at: past}
    ).where(LoginThrottle.source == source)
    assert (await staff.login("alice", "one-more-wrong-guess")).status_code == 401
    row = await _throttle(user_id)
    assert row["failures"] == 1 and row["locked_until"] is None
    assert (await staff.login("alice", PASSWORD)).status_code == 303


async def test_it_tells_the_administration_who_is_locked_and_unlocks_every_source(
    staff: StaffClient,
) -> None:
    user_id = await _user()
    other = await _user("bob")
    for _ in range(throttle.LOCK_AFTER):
        await staff.login("alice", "wrong-guess")
    assert await throttle.locked_users([user_id, other]) == {user_id}
    await throttle.unlock(user_id)
    assert await throttle.locked_users([user_id, other]) == set()
    assert (await staff.login("alice", PASSWORD)).status_code == 303


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_a_forbidden_page_leads_each_role_onward_to_its_own_start_page(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """The researcher's 403 on the dashboards used to link back to the dashboards."""
    org = await make_organization()
    await make_office(organization=org)
    await make_staff_user("rita", PASSWORD, "researcher", organization=org)
    await make_staff_user("mona", PASSWORD, "manager", organization=org)
    assert (await client.get("/")).headers["location"] == "/dashboard", "then the sign-in"
    assert (await staff.login("rita", PASSWORD)).status_code == 303
    refused = await client.get("/dashboard")
    assert refused.status_code == 403
    assert 'href="/"' in refused.text and 'href="/dashboard"' not in refused.text
    home = await client.get("/")
    assert (home.status_code, home.headers["location"]) == (303, "/export")
    assert (await client.get("/export")).status_code == 200
    client.cookies.clear()
    assert (await staff.login("mona", PASSWORD)).status_code == 303
    assert (await client.get("/")).headers["location"] == "/dashboard"


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_the_dashboards_name_the_languages_of_responses_in_the_pages_language(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    await _user("mona")
    assert (await staff.login("mona", PASSWORD)).status_code == 303
    german = (await client.get("/dashboard")).text
    english = (await client.get("/dashboard?lang=en")).text
    for page, arabic, easy in ((german, "Arabisch", "Leichte Sprache"),
                               (english, "Arabic", "Easy German (Leichte Sprache)")):  # fmt: skip
        assert f'<option value="language:ar">{arabic}</option>' in page
        assert f'<option value="language:de-x-ls">{easy}</option>' in page
        assert ">ps<" not in page and ">de-x-ls<" not in page


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_unknown_addresses_say_so_in_the_readers_words_with_a_way_onward(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """Not the framework's English "Not Found" under a German heading."""
    respondent = await client.get("/no-such-page", headers={"accept-language": "ar"})
    assert respondent.status_code == 404
    assert "رابط الاستبيان هذا غير معروف" in respondent.text and "Not Found" not in respondent.text
    await _user("mona")
    assert (await staff.login("mona", PASSWORD)).status_code == 303
    for path in ("/dashboard/offices/abc", "/manage/no-such-page"):
        page = await client.get(path)
        assert page.status_code == 404, path
        assert "Unter dieser Adresse gibt es keine Seite." in page.text, path
        assert "Not Found" not in page.text and 'href="/"' in page.text
    wrong = await client.get("/manage/links/1/active")
    assert wrong.status_code == 405 and "Diese Adresse nimmt diese Art von Anfrage" in wrong.text
    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_the_help_page_explains_the_figures_in_the_readers_language(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    await _user("mona")
    assert (await staff.login("mona", PASSWORD)).status_code == 303
    overview = await client.get("/dashboard")
    assert 'href="/dashboard/help"' in overview.text
    german = await client.get("/dashboard/help")
    english = await client.get("/dashboard/help?lang=en")
    assert german.status_code == english.status_code == 200
    for page, words in ((german, ("So lesen Sie die Zahlen", "kein klarer Unterschied",
                                  "Trichterdiagramm", "Rang mit Unsicherheit")),
                        (english, ("How to read the figures", "no clear difference",
                                   "Funnel plot", "Rank with uncertainty"))):  # fmt: skip
        for word in words:
            assert word in page.text, word
    for anchor in ("index", "interval", "verdict", "funnel", "shrinkage", "rank", "protection"):
        assert f'id="{anchor}"' in german.text and f'id="{anchor}"' in english.text
    # the model's verdict needs P(above) ≥ (1 + 0.95)/2 (analysis.model), not 95 %
    assert "at least 97.5% sure" in english.text and "mindestens 97,5 % sicher" in german.text
    assert "mindestens 97,5 % sicher" in overview.text and "95 % sicher" not in overview.text
    # a filtered view shows the blocks where its own value is none or enough, not only the
    # months where every value of the filter is (docs/methods.md, "Blocks of months")
    assert "own value has none or at least 10" in english.text
    assert "eigener Wert keine oder mindestens 10" in german.text


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_a_failed_sign_in_answers_in_the_language_chosen_on_the_sign_in_page(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """t23's finding 16: the refusal came back in the browser's language (English here)."""
    import re

    await _user()
    english_browser = {"accept-language": "en-GB,en;q=0.9"}
    form = await client.get("/login?lang=de&next=/export", headers=english_browser)
    action = re.search(r'<form method="post" action="([^"]+)" data-testid="login-form"', form.text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert action and token
    refused = await client.post(
        action[1].replace("&amp;", "&"),
        data={"username": "alice", "password": "wrong-wrong", "csrf_token": token[1],
              "lang": "de", "next": "/export"},
        headers=english_browser,
    )  # fmt: skip
    assert refused.status_code == 401
    assert "Unbekannter Benutzername oder falsches Passwort." in refused.text
    assert '<html lang="de"' in refused.text
    assert re.search(r'data-testid="lang-de" aria-current="true"', refused.text)
    assert 'name="next" value="/export"' in refused.text, "where to go after signing in stays"
    token = re.search(r'name="csrf_token" value="([^"]+)"', refused.text)
    assert token
    again = re.search(r'action="([^"]+)" data-testid="login-form"', refused.text)
    assert again and "lang=de" in again[1], "a second try answers in German too"
