"""Sign in and out, and the language preference of staff users."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import secrets
from typing import Any

from litestar import Controller, Litestar, Request, Response, get, post
from litestar.datastructures import Cookie, FormMultiDict, State
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect, Template

from survey.auth import account, guard, queries, throttle
from survey.auth.passwords import hash_password, needs_rehash, verify_password
from survey.auth.schemas import Scope
from survey.errors import BadRequest, DomainError, Forbidden, TooManyRequests, in_words
from survey.i18n import N_, UI_LOCALES, translations
from survey.manage.problems import check_text
from survey.settings import Settings

LOGIN_FAILED = N_("Unknown username or wrong password.")
PASSWORD_SET_FOR = N_("The password of %(name)s is set. Please sign in.")
NO_PAGE = N_("There is no page at this address.")
WRONG_METHOD = N_("This address does not take this kind of request.")
"""The framework's bare "Method Not Allowed" on a staff page (a form sent to a page's address
that only shows it, a link to a form's address)."""
LOGIN_LOCKED = N_(
    "Too many failed attempts in a row. Wait 15 minutes and try again, or ask an administrator "
    "of your job centre to unlock the account or reset the password."
)
"""Shown once the attempts of a name from this browser reach the lock, whether the name exists
or not (unknown names are counted the same way), so it says nothing about the account."""
LOCK_NOTE = N_("After %(count)d failed attempts in a row, signing in is locked for 15 minutes.")
STAFF_UNAVAILABLE = N_(
    "The database cannot be reached or written right now (stopped, full or read-only). "
    "Nothing was changed. Please try again in a minute; if it lasts, tell your IT."
)
SOMETHING_WRONG = N_("Something is wrong")
"""The heading of a staff error page without one of its own (outside a keyword call: babel
does not extract a message nested in another call of gettext)."""
NO_STORE = {"cache-control": "no-store"}
_dummy_hash: list[str] = []


def _safe_next(target: str | None) -> str:
    """Only our own staff paths, never another host (no open redirect)."""
    if (
        target
        and target.startswith(("/dashboard", "/manage", "/export", "/account"))
        and "//" not in target
        and "\\" not in target
    ):
        return target
    return "/dashboard"


def _login_page(
    request: Request[Any, Any, State],
    *,
    error: str | None = None,
    username: str = "",
    next_page: str | None = None,
    status_code: int = 200,
) -> Template:
    settings: Settings = request.app.state.settings
    locale = guard.staff_locale(request)
    gettext = translations(locale, "staff").gettext
    nonce = request.cookies.get(guard.LOGIN_COOKIE) or secrets.token_urlsafe(16)
    done = None
    if request.query_params.get("done") == "password" and error is None:
        named = guard.read_done(settings.secret_key, request.cookies.get(guard.DONE_COOKIE))
        username = username or named or ""
        done = gettext(PASSWORD_SET_FOR) % {"name": named} if named else None
    chosen = request.query_params.get("lang")
    context = guard.page_context(request, None, locale) | {
        "error": error,
        "done": done,
        "username": username,
        "chosen": chosen if chosen in UI_LOCALES else "",
        "next": _safe_next(next_page or request.query_params.get("next")),
        "login_csrf": guard.csrf_token(settings.secret_key, "login|" + nonce),
        "lock_after": throttle.LOCK_AFTER,
    }
    return Template(
        "auth/login.html",
        context=context,
        status_code=status_code,
        headers=NO_STORE,
        cookies=[guard.login_cookie(settings, nonce)],
    )


def staff_error(
    request: Request[Any, Any, Any], status_code: int, detail: str | DomainError
) -> Template:
    """The error page of staff routes, in the signed-in user's language (saved choice first),
    with the menu of their role."""
    scope = guard.signed_in_scope(request)
    locale = guard.staff_locale(request, scope)
    gettext = translations(locale, "staff").gettext
    headings = {
        400: N_("The request cannot be answered"),
        401: N_("Please sign in"),
        403: N_("Not allowed"),
        404: N_("Not found"),
        409: N_("Not possible"),
        422: N_("Please check your input"),
        503: N_("Temporarily unavailable"),
    }
    heading = gettext(headings.get(status_code, SOMETHING_WRONG))
    settings: Settings = request.app.state.settings
    session = guard.read_session(settings.secret_key, request.cookies.get(guard.SESSION_COOKIE))
    context = guard.page_context(request, scope, locale) | {
        "csrf": guard.csrf_token(settings.secret_key, session.nonce) if session else "",
        "back": form_page(request),
        "heading": heading,
        "detail": in_words(detail, gettext) if isinstance(detail, DomainError) else gettext(detail),
        "status_code": status_code,
        # a page asked for with parameters it refuses (a dashboard's period or filter): the
        # same page without them, so the refusal is no dead end
        "plain_page": (
            request.url.path
            if status_code == 400 and request.method == "GET" and request.url.query
            and scope is not None else ""
        ),
    }  # fmt: skip
    return Template("auth/error.html", context=context, status_code=status_code, headers=NO_STORE)


class StaffUnrouted(Response[Any]):
    """404 for an address no route answers (or 405 for a method it does not take), to a
    browser with a staff session: the staff error page in the user's saved language with
    their menu (the scope is loaded as the response is sent: exception handlers cannot wait
    for the database)."""

    def __init__(
        self,
        request: Request[Any, Any, Any],
        session: guard.Session,
        status_code: int,
        detail: str,
        headers: dict[str, str] | None,
    ) -> None:
        super().__init__(None, status_code=status_code)
        self._request = request
        self._session = session
        self._status = status_code
        self._detail = detail
        self._headers = headers or {}

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        request, session = self._request, self._session

        async def send_page(scope: Any, receive: Any, send: Any) -> None:
            with contextlib.suppress(Exception):  # no database: the page without the menu
                found = await queries.load_scope(session.user_id, session.epoch)
                if found is not None:
                    request.state[guard.SCOPE_STATE] = found
            page = staff_error(request, self._status, self._detail)
            page.headers.update(self._headers)
            await page.to_asgi_response(*args, **kwargs)(scope, receive, send)

        return send_page


FORM_PAGES = {"/manage/networks": "/manage/network", "/manage/organizations": "/manage/network"}
"""Forms whose page is not found by shortening their path."""


def form_page(request: Request[Any, Any, Any]) -> str | None:
    """The page a refused form was sent from: the path of the POST, shortened until a page
    answers GET there (the browser sends no Referer: referrer-policy no-referrer)."""
    if request.method != "POST":
        return None
    parts = request.url.path.rstrip("/").split("/")
    pages = _get_paths(request.app)
    for n in range(len(parts), 1, -1):
        path = "/".join(parts[:n])
        if path in FORM_PAGES:
            return FORM_PAGES[path]
        if any(p.fullmatch(path) for p in pages):
            return path
    return None


def _get_paths(app: Litestar) -> list[re.Pattern[str]]:
    found: list[re.Pattern[str]] | None = app.state.get("form_pages")
    if found is None:
        found = [
            re.compile("[^/]+".join(re.escape(p) for p in re.split(r"\{[^}]*\}", route.path)))
            for route in app.routes
            if "GET" in route.methods
        ]
        app.state["form_pages"] = found
    return found


class AuthController(Controller):
    include_in_schema = False

    @get("/login", cache_control=None)
    async def login_form(self, request: Request[Any, Any, State]) -> Template:
        return _login_page(request)

    @post("/login", status_code=303)
    async def login(self, request: Request[Any, Any, State], state: State) -> Redirect | Template:
        settings: Settings = state.settings
        form = await request.form()
        username = str(form.get("username") or "").strip()[:80]
        password = str(form.get("password") or "")
        nonce = request.cookies.get(guard.LOGIN_COOKIE)
        if not guard.csrf_ok(settings.secret_key, "login|" + (nonce or ""), form.get("csrf_token")):
            raise Forbidden(N_("The form has expired. Please load the page again."))
        if _CONTROL.search(username):  # never a real name; keep it out of queries and logs
            username = _CONTROL.sub("", username)
            user = None
        else:
            user = await queries.find_user(username) if username else None
            if user is not None:  # as it is spelt, however it was typed (the audit log's)
                username = str(user["username"])
        now = dt.datetime.now(dt.UTC)
        account: dict[str, Any] = user if user is not None else {}
        known = bool(account.get("active"))
        account_locked = (
            known and account["locked_until"] is not None and account["locked_until"] > now
        )
        user_id = int(account["id"]) if user is not None else None
        device = (
            throttle.device_of(
                settings.secret_key, request.cookies.get(throttle.DEVICE_COOKIE), user_id
            )
            if user_id is not None
            else None
        )
        source = throttle.key_for(user_id, username, device)
        # claim the try before checking the password: parallel attempts cannot slip past a lock
        may_try, failures = await throttle.claim(source)
        checkable = known and may_try and not account_locked
        # the same work and the same growing delay whether the name exists or not
        checked = await asyncio.to_thread(
            verify_password,
            account["password_hash"] if checkable else _dummy(),
            password,
        )
        if not (checkable and checked):
            reason = (
                "unknown user"
                if not known
                else "account locked"
                if account_locked
                else "locked"
                if not may_try
                else "wrong password"
            )
            state.metrics.login_failures.labels(reason.replace(" ", "_")).inc()
            await queries.audit(
                "login_failed",
                user_id=user_id if known else None,
                username=username,
                reason=reason,
                failures=failures,
                device=bool(device),
            )
            await asyncio.sleep(guard.failure_delay(failures))
            locked = not may_try or failures >= throttle.LOCK_AFTER
            return self._failed(request, username, locked, str(form.get("next") or ""))
        await throttle.clear(source)
        rehash = (
            await asyncio.to_thread(hash_password, password)
            if needs_rehash(account["password_hash"])
            else None
        )
        await queries.record_success(account["id"], rehash)
        chosen = str(form.get("lang") or "")
        if chosen in UI_LOCALES:  # the language picked on the sign-in page stays picked
            await queries.set_locale(account["id"], chosen)
        await queries.audit("login", user_id=account["id"], username=username)
        device_value = request.cookies.get(throttle.DEVICE_COOKIE) if device else None
        target = _safe_next(str(form.get("next") or ""))
        if target.startswith("/dashboard"):  # a researcher has exports only
            scope = await queries.load_scope(account["id"])
            if scope is not None and not scope.may_see_dashboards and scope.may_export:
                target = "/export"
        return Redirect(
            target,
            status_code=303,
            headers=NO_STORE,
            cookies=[
                guard.session_cookie(
                    settings,
                    guard.make_session(
                        settings.secret_key, account["id"], int(account["session_epoch"] or 0)
                    ),
                ),
                Cookie(key=guard.LOGIN_COOKIE, value="", path="/login", max_age=0),
                Cookie(key=guard.DONE_COOKIE, value="", path="/login", max_age=0),
                guard.device_cookie(
                    settings,
                    device_value
                    or throttle.device_cookie_value(settings.secret_key, account["id"]),
                ),
            ],
        )

    @staticmethod
    def _failed(
        request: Request[Any, Any, State], username: str, locked: bool, next_page: str
    ) -> Template:
        error = LOGIN_LOCKED if locked else LOGIN_FAILED
        return _login_page(
            request, error=error, username=username, next_page=next_page, status_code=401
        )

    @post("/logout", status_code=303, dependencies={"staff": Provide(guard.signed_in)})
    async def logout(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Redirect:
        await _checked_form(request, state, staff)
        await queries.end_sessions(staff.user_id)
        await queries.audit("logout", user_id=staff.user_id, username=staff.username)
        return Redirect(
            "/login",
            status_code=303,
            cookies=[guard.session_cookie(state.settings, "", max_age=0)],
        )

    @get("/account", cache_control=None, dependencies={"staff": Provide(guard.signed_in)})
    async def account_page(
        self, request: Request[Any, Any, State], staff: NamedDependency[Scope]
    ) -> Template:
        return await _account_page(request, staff, "auth/account.html")

    @get("/account/password", cache_control=None, dependencies={"staff": Provide(guard.signed_in)})
    async def password_form(
        self, request: Request[Any, Any, State], staff: NamedDependency[Scope]
    ) -> Template:
        return await _account_page(request, staff, "auth/password.html")

    @post("/account/password", status_code=303, dependencies={"staff": Provide(guard.signed_in)})
    async def change_password(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Redirect | Template:
        """Current password and the new one twice (survey/auth/account.py); the other
        sessions end, this browser gets a new session cookie."""
        form = await _checked_form(request, state, staff)
        try:
            epoch = await account.change_password(
                staff.user_id,
                staff.username,
                str(form.get("current") or ""),
                str(form.get("password") or ""),
                str(form.get("repeat") or ""),
                revoke_tokens=form.get("revoke_tokens") == "1",
            )
        except DomainError as exc:
            headers = dict(NO_STORE)
            if isinstance(exc, TooManyRequests):
                headers["retry-after"] = str(throttle.LOCK_SECONDS)
            return await _account_page(
                request, staff, "auth/password.html", error=exc, status_code=exc.status_code,
                headers=headers,
            )  # fmt: skip
        cookie = guard.make_session(state.settings.secret_key, staff.user_id, epoch)
        what = CHANGED_REVOKED if form.get("revoke_tokens") == "1" else CHANGED
        return Redirect(
            "/account?done=password",
            status_code=303,
            headers=NO_STORE,
            cookies=[
                guard.session_cookie(state.settings, cookie),
                guard.done_cookie(state.settings, staff.username, what=what, path="/account"),
            ],
        )

    @post("/account/language", status_code=303, dependencies={"staff": Provide(guard.signed_in)})
    async def language(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Redirect:
        form = await _checked_form(request, state, staff)
        lang = str(form.get("lang") or "")
        if lang not in UI_LOCALES:
            raise BadRequest(N_("This language is not available."))
        await queries.set_locale(staff.user_id, lang)
        return Redirect(_safe_next(str(form.get("next") or "")), status_code=303)


PASSWORD_CHANGED = N_(
    "Your password is changed. You were signed out everywhere else; your API tokens stay valid."
)
PASSWORD_CHANGED_REVOKED = N_(
    "Your password is changed. You were signed out everywhere else, and your API tokens are "
    "revoked."
)
CHANGED, CHANGED_REVOKED = "changed", "changed, tokens revoked"
"""What the done cookie of a password change says (the page's words come from it, not from
its address: `/account?done=password` alone could be sent as a link to fake a change)."""


async def _account_page(
    request: Request[Any, Any, State],
    staff: Scope,
    template: str,
    *,
    error: DomainError | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    """The user's own account pages, in their language; the confirmation of a password
    change only from its signed note for this user (then cleared)."""
    locale = guard.staff_locale(request, staff)
    gettext = translations(locale, "staff").gettext
    done = None
    cookies = []
    note = request.cookies.get(guard.DONE_COOKIE)
    if note:
        cookies.append(Cookie(key=guard.DONE_COOKIE, value="", path="/account", max_age=0))
        if request.query_params.get("done") == "password":
            secret = request.app.state.settings.secret_key
            for what, words in ((CHANGED, PASSWORD_CHANGED),
                                (CHANGED_REVOKED, PASSWORD_CHANGED_REVOKED)):  # fmt: skip
                if guard.read_done(secret, note, what=what) == staff.username:
                    done = gettext(words)
    tokens = await queries.active_tokens(staff.user_id) if template.endswith("password.html") else 0
    context = guard.page_context(request, staff, locale) | {
        "error": in_words(error, gettext) if error is not None else None,
        "done": done,
        "tokens": tokens,
    }
    return Template(
        template, context=context, status_code=status_code, headers=headers or NO_STORE,
        cookies=cookies,
    )  # fmt: skip


async def _checked_form(
    request: Request[Any, Any, State], state: State, staff: Scope
) -> FormMultiDict:
    """The posted form of a signed-in browser, or 403 when its CSRF token does not match."""
    form = await request.form()
    if staff.via_token or not _csrf_matches(request, state, form.get("csrf_token")):
        raise Forbidden(N_("The form has expired. Please load the page again."))
    if any(not isinstance(value, str) for _, value in form.multi_items()) or not _is_utf8(
        await request.body()  # read by `form` already: Litestar keeps it
    ):
        raise BadRequest(UNREADABLE_FORM)
    check_text(form)
    return form


UNREADABLE_FORM = N_("The form could not be read. Please send it from its page, without files.")
"""A staff form sent with a file, or with bytes that are not UTF-8 (which the form parser
would read as Latin-1: a name "ÿþ"): never what the pages send."""


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _csrf_matches(request: Request[Any, Any, State], state: State, given: Any) -> bool:
    session = guard.read_session(
        state.settings.secret_key, request.cookies.get(guard.SESSION_COOKIE)
    )
    return session is not None and guard.csrf_ok(
        state.settings.secret_key, session.nonce, str(given or "")
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _dummy() -> str:
    if not _dummy_hash:
        _dummy_hash.append(hash_password(secrets.token_urlsafe(12)))
    return _dummy_hash[0]
