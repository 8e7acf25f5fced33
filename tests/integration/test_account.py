"""A user's own account: the one-time set-password link names the account and ends on a
sign-in form that says so; a signed-in user changes their own password."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from survey.auth import account, guard, throttle
from survey.manage.users import _new_invitation
from survey.questionnaire import LOCAL_ZONE
from survey.tables import AuditLog, LoginThrottle, User
from tests.builders import make_office, make_organization, make_staff_user
from tests.conftest import ONE_ENGINE, StaffClient

PASSWORD = "correct-horse-battery"
NEW = "Kaffee am Deich 7"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "DELAY_BASE_SECONDS", 0.0)


async def _user(username: str = "leitung.ost") -> int:
    org = await make_organization()
    await make_office(organization=org)
    return await make_staff_user(username, PASSWORD, "manager", organization=org)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found[1]


# ---- the one-time set-password link (t23's finding 5) ----------------------------------------


@ONE_ENGINE  # what the page says: not SQL (docs/testing.md)
async def test_the_set_password_page_names_the_account_for_people_and_password_managers(
    client: httpx.AsyncClient,
) -> None:
    user = await _user()
    token, expires = await _new_invitation(user)
    page = await client.get(f"/account/set-password/{token}?lang=de")
    assert page.status_code == 200
    assert "Passwort für leitung.ost setzen" in page.text
    field = re.search(r"<input[^>]*autocomplete=\"username\"[^>]*>", page.text)
    assert field and 'value="leitung.ost"' in field[0] and "hidden" in field[0]
    local = expires.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")
    assert local in page.text, "the expiry in the job centres' time, not UTC"
    english = await client.get(f"/account/set-password/{token}?lang=en")
    assert "Set the password for leitung.ost" in english.text


async def test_after_setting_the_password_the_sign_in_form_confirms_and_knows_the_username(
    client: httpx.AsyncClient, staff: StaffClient
) -> None:
    user = await _user()
    token, _ = await _new_invitation(user)
    saved = await client.post(
        f"/account/set-password/{token}?lang=de", data={"password": NEW, "repeat": NEW}
    )
    assert saved.status_code == 303
    target = saved.headers["location"]
    assert target.startswith("/login?done=password")
    assert "leitung.ost" not in target, "the username stays out of the address and its logs"
    cookie = next(c for c in saved.headers.get_list("set-cookie") if guard.DONE_COOKIE in c)
    assert "Path=/login" in cookie and "HttpOnly" in cookie
    login = await client.get(target)
    assert login.status_code == 200
    assert "Das Passwort von leitung.ost ist gesetzt" in login.text
    assert 'value="leitung.ost"' in login.text
    assert 'lang="de"' in login.text
    # signing in clears the note: the next person at this browser does not see the name
    signed_in = await client.post(
        "/login",
        data={"username": "leitung.ost", "password": NEW, "csrf_token": _csrf(login.text)},
    )
    assert signed_in.status_code == 303
    client.cookies.delete(guard.SESSION_COOKIE)
    again = await client.get("/login?done=password")
    assert "leitung.ost" not in again.text
    assert 'data-testid="done"' not in again.text, "without its note the address says nothing"


@ONE_ENGINE  # what the page says: not SQL (docs/testing.md)
async def test_a_forged_or_stale_note_names_nobody(client: httpx.AsyncClient) -> None:
    from survey.settings import Settings

    secret = client._transport.app.state.settings.secret_key  # type: ignore[attr-defined]
    forged = guard.done_cookie(Settings(secret_key="another-secret-key-0123456789"), "mallory")
    client.cookies.set(guard.DONE_COOKIE, forged.value or "", path="/login")
    assert "mallory" not in (await client.get("/login?done=password")).text
    stale = guard.done_cookie(
        client._transport.app.state.settings,  # type: ignore[attr-defined]
        "mallory",
        now=dt.datetime.now(dt.UTC).timestamp() - 2 * guard.DONE_SECONDS,
    )
    assert guard.read_done(secret, stale.value) is None
    client.cookies.set(guard.DONE_COOKIE, "x.y.z", path="/login")
    assert (await client.get("/login?done=password")).status_code == 200


# ---- changing one's own password (t23's finding 6) ----------------------------------------


async def _change(
    client: httpx.AsyncClient, current: str, new: str, repeat: str | None = None, **extra: str
) -> httpx.Response:
    form = await client.get("/account/password")
    assert form.status_code == 200, form.text
    return await client.post(
        "/account/password",
        data={
            "current": current,
            "password": new,
            "repeat": new if repeat is None else repeat,
            "csrf_token": _csrf(form.text),
            **extra,
        },
    )


@ONE_ENGINE  # what the page says: not SQL (docs/testing.md)
async def test_the_name_in_the_bar_leads_to_my_account_and_its_password_form(
    staff: StaffClient,
) -> None:
    await _user()
    await staff.login("leitung.ost", PASSWORD)
    page = await staff.client.get("/dashboard?lang=de")
    assert re.search(r'<a class="who" href="/account"', page.text)
    mine = await staff.client.get("/account?lang=de")
    assert mine.status_code == 200 and "Mein Konto" in mine.text
    assert 'href="/account/password"' in mine.text
    form = await staff.client.get("/account/password?lang=de")
    assert "Aktuelles Passwort" in form.text and 'autocomplete="username"' in form.text


async def test_a_user_changes_their_password_and_their_other_sessions_end(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    user = await _user()
    await staff.login("leitung.ost", PASSWORD)
    elsewhere = client.cookies.get(guard.SESSION_COOKIE)
    assert elsewhere
    changed = await _change(client, PASSWORD, NEW)
    assert changed.status_code == 303 and changed.headers["location"] == "/account?done=password"
    note = next(c for c in changed.headers.get_list("set-cookie") if guard.DONE_COOKIE in c)
    assert "Path=/account" in note and "HttpOnly" in note
    confirmed = await client.get("/account?done=password&lang=en")
    assert "signed out everywhere else; your API tokens stay valid" in confirmed.text
    assert "signed out everywhere else" not in (await client.get("/account?done=password")).text, (
        "the note is read once"
    )
    assert (await client.get("/account")).status_code == 200, "this browser stays signed in"
    kept = client.cookies.get(guard.SESSION_COOKIE)
    client.cookies.set(guard.SESSION_COOKIE, elsewhere)
    assert (await client.get("/account")).status_code == 303, "another session has ended"
    client.cookies.set(guard.SESSION_COOKIE, kept or "")
    assert (await staff.login("leitung.ost", PASSWORD)).status_code == 401
    assert (await staff.login("leitung.ost", NEW)).status_code == 303
    stored = await User.select(User.password_hash).where(User.id == user).first()
    assert stored and stored["password_hash"].startswith("$argon2id$")
    logged = await AuditLog.select(AuditLog.username).where(AuditLog.action == "password_changed")
    assert logged == [{"username": "leitung.ost"}]


async def test_a_wrong_current_password_or_a_weak_new_one_is_refused_in_words(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    await _user()
    await staff.login("leitung.ost", PASSWORD)
    await client.post(
        "/account/language",
        data={"lang": "de", "next": "/account", "csrf_token": await staff.csrf()},
    )
    for current, new, repeat, reason in (
        ("not-the-password", NEW, NEW, "Das aktuelle Passwort ist falsch."),
        (PASSWORD, "short", "short", "mindestens 10 Zeichen"),
        (PASSWORD, "leitung.ost-2026", "leitung.ost-2026", "nicht der Benutzername"),
        (PASSWORD, NEW, NEW + "x", "Die beiden Passwörter sind verschieden."),
        (PASSWORD, PASSWORD, PASSWORD, "muss sich vom aktuellen unterscheiden"),
    ):
        refused = await _change(client, current, new, repeat)
        assert refused.status_code == 422, (current, new, refused.text)
        assert reason in refused.text, reason
        assert 'data-testid="change-password-form"' in refused.text
    assert (await staff.login("leitung.ost", PASSWORD)).status_code == 303, "nothing changed"
    failed = await AuditLog.count().where(AuditLog.action == "password_change_failed")
    assert failed == 1


async def test_wrong_current_passwords_are_throttled_like_sign_ins(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    user = await _user()
    await staff.login("leitung.ost", PASSWORD)
    for _ in range(throttle.LOCK_AFTER - 1):
        assert (await _change(client, "guess-guess-guess", NEW)).status_code == 422
    locked = await _change(client, "guess-guess-guess", NEW)
    assert locked.status_code == 429 and locked.headers["retry-after"]
    right = await _change(client, PASSWORD, NEW)
    assert right.status_code == 429, "the lock holds even for the right password"
    row = (
        await LoginThrottle.select()
        .where(LoginThrottle.source == account.throttle_key(user))
        .first()
    )
    assert row and row["locked_until"] is not None
    assert (await staff.login("leitung.ost", PASSWORD)).status_code == 303, (
        "signing in is counted apart and still works"
    )
    await throttle.unlock(user)  # the locked message sends the user to an administrator
    assert (await _change(client, PASSWORD, NEW)).status_code == 303, "whose unlock frees it (r25)"


@ONE_ENGINE  # what the page says: not SQL (docs/testing.md)
async def test_a_link_alone_cannot_fake_the_confirmation_of_a_change(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """r25's finding 10: `/account?done=password` said "Your password is changed" to anyone
    who followed such a link; now only the signed note of this user's own change does."""
    await _user()
    await make_staff_user("mallory", PASSWORD, "manager", organization=await make_organization("M"))
    await staff.login("leitung.ost", PASSWORD)
    settings = client._transport.app.state.settings  # type: ignore[attr-defined]
    faked = await client.get("/account?done=password&lang=en")
    assert faked.status_code == 200 and 'data-testid="done"' not in faked.text
    for note in (
        guard.done_cookie(settings, "mallory", what="changed", path="/account"),  # not mine
        guard.done_cookie(settings, "leitung.ost", path="/account"),  # a set-password note
        guard.done_cookie(settings, "leitung.ost", what="changed", path="/account",
                          now=dt.datetime.now(dt.UTC).timestamp() - 2 * guard.DONE_SECONDS),
    ):  # fmt: skip
        client.cookies.set(guard.DONE_COOKIE, note.value or "", path="/account")
        shown = await client.get("/account?done=password&lang=en")
        assert shown.status_code == 200 and 'data-testid="done"' not in shown.text, note
    login = await client.get("/login?done=password&lang=en")
    assert 'data-testid="done"' not in login.text, "the sign-in form is not faked either"


async def test_a_change_revokes_my_api_tokens_unless_i_untick_it(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """r25's finding 6: a token made by whoever knew the old password outlived the change."""
    from survey.tables import ApiToken

    user = await _user()
    await staff.login("leitung.ost", PASSWORD)
    form = await client.get("/account/password?lang=en")
    assert 'data-testid="revoke-tokens"' not in form.text, "no tokens, nothing to revoke"
    tokens = []
    for name in ("script", "other"):
        token = guard.new_api_token()
        await ApiToken(user=user, name=name, token_hash=guard.hash_token(token),
                       created_at=dt.datetime.now(dt.UTC)).save()  # fmt: skip
        tokens.append(token)
    form = await client.get("/account/password?lang=en")
    assert re.search(r'name="revoke_tokens" value="1" checked', form.text), "ticked by default"

    async def works(token: str) -> bool:  # from a client without the session cookie
        async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as bare:
            answer = await bare.get(
                "/api/v1/results/overview", headers={"authorization": f"Bearer {token}"}
            )
        assert answer.status_code in (200, 401), answer.text
        return answer.status_code == 200

    assert all([await works(t) for t in tokens])
    kept = await _change(client, PASSWORD, NEW)  # the box unticked: not sent
    assert kept.status_code == 303
    assert all([await works(t) for t in tokens]), "unticked: the scripts keep running"
    revoked = await _change(client, NEW, "Tee am Hafen 12", revoke_tokens="1")
    assert revoked.status_code == 303
    assert not any([await works(t) for t in tokens])
    page = await client.get("/account?done=password&lang=en")
    assert "your API tokens are revoked" in page.text
    logged = await AuditLog.select(AuditLog.detail).where(AuditLog.action == "password_changed")
    counts = sorted(guard_detail(r["detail"]).get("tokens_revoked") for r in logged)
    assert counts == [0, 2]


def guard_detail(raw: object) -> dict[str, object]:
    import json

    return raw if isinstance(raw, dict) else json.loads(str(raw))


async def test_no_csrf_no_token_and_no_other_user_can_change_a_password(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    await _user()
    other = await make_staff_user(
        "bob.other", PASSWORD, "manager", organization=await make_organization("B")
    )
    await staff.login("leitung.ost", PASSWORD)
    data = {"current": PASSWORD, "password": NEW, "repeat": NEW}
    assert (await client.post("/account/password", data=data)).status_code == 403
    forged = await client.post("/account/password", data=data | {"csrf_token": "forged"})
    assert forged.status_code == 403
    # a field naming another user changes nothing but one's own account
    changed = await _change(client, PASSWORD, NEW, username="bob.other", user_id=str(other))
    assert changed.status_code == 303
    token = guard.new_api_token()
    from survey.tables import ApiToken

    await ApiToken(
        user=other, name="script", token_hash=guard.hash_token(token),
        created_at=dt.datetime.now(dt.UTC),
    ).save()  # fmt: skip
    client.cookies.clear()
    bearer = {"authorization": f"Bearer {token}"}
    by_token = await client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "Tee am Hafen 12", "repeat": "Tee am Hafen 12"},
        headers=bearer,
    )
    assert by_token.status_code == 403
    assert (await staff.login("bob.other", PASSWORD)).status_code == 303, "bob's is unchanged"
    client.cookies.clear()
    signed_out = await client.post("/account/password", data=data)
    assert signed_out.status_code in (303, 401, 403)
    assert (await client.get("/account")).status_code == 303
