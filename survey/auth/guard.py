"""Signed session cookies, CSRF tokens, API tokens and the one place that checks roles.

Staff sessions are a signed cookie (user, expiry, nonce) set only on staff routes; the
respondent routes never see or set a cookie. CSRF tokens are HMACs of the session nonce
(or, before login, of a nonce in a login-only cookie), so no server-side state is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request
from litestar.datastructures import Cookie, State

from survey.auth import queries, throttle
from survey.auth.schemas import Scope
from survey.errors import DomainError, Forbidden
from survey.i18n import N_, UI_LOCALES, negotiate, translations
from survey.settings import Settings

SESSION_COOKIE = "resonanz_session"
LOGIN_COOKIE = "resonanz_login"
DONE_COOKIE = "resonanz_password_set"
"""Names the account whose password was just set, for the sign-in page only (path /login, ten
minutes, signed): its username is filled in without standing in the address, where it would
stay in the browser's history and the server's access log."""
DONE_SECONDS = 600
SESSION_SECONDS = 10 * 3600
DELAY_BASE_SECONDS = 0.25
"""The n-th failure in a row waits DELAY_BASE_SECONDS · 2^(n−1), at most DELAY_MAX_SECONDS."""
DELAY_MAX_SECONDS = 4.0
SCOPE_STATE = "resonanz_scope"
KEPT = ("from", "to", "filter", "service_type", "language", "mode", "adjust")
"""What the dashboards' links in the menu carry over: the period and the filter chosen."""
STAFF_PREFIXES = ("/dashboard", "/export", "/login", "/logout", "/account", "/manage")


class LoginRequired(DomainError):
    status_code = 401


class Session(msgspec.Struct, frozen=True):
    user_id: int
    expires: int
    nonce: str
    epoch: int = 0
    """Must equal the user's session_epoch: sign-out and lockout raise it."""


def _mac(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_session(secret: str, user_id: int, epoch: int = 0, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_SECONDS)
    body = f"{user_id}.{epoch}.{expires}.{secrets.token_urlsafe(16)}"
    return f"{body}.{_mac(secret, 'session|' + body)}"


def read_session(secret: str, value: str | None, now: float | None = None) -> Session | None:
    if not value or value.count(".") != 4:
        return None
    body, _, mac = value.rpartition(".")
    if not same(mac, _mac(secret, "session|" + body)):
        return None
    user, epoch, expires, nonce = body.split(".")
    if not (user.isdigit() and epoch.isdigit() and expires.isdigit()):
        return None
    if int(expires) < (now or time.time()):
        return None
    return Session(int(user), int(expires), nonce, int(epoch))


def csrf_token(secret: str, nonce: str) -> str:
    return _mac(secret, "csrf|" + nonce)


def csrf_ok(secret: str, nonce: str | None, given: str | None) -> bool:
    return bool(nonce and given) and same(csrf_token(secret, nonce or ""), given or "")


def same(a: str, b: str) -> bool:
    """`hmac.compare_digest` of two texts as UTF-8 bytes: on `str` it raises TypeError for
    any non-ASCII character, which a cookie or form field can carry (r27: a 500)."""
    return hmac.compare_digest(a.encode(), b.encode())


def hash_token(token: str) -> str:
    """API tokens are stored as their SHA-256 (they are long random strings, not passwords)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> str:
    return "rz_" + secrets.token_urlsafe(32)


def failure_delay(failures: int) -> float:
    return min(DELAY_MAX_SECONDS, DELAY_BASE_SECONDS * 2.0 ** max(failures - 1, 0))


def session_cookie(settings: Settings, value: str, max_age: int = SESSION_SECONDS) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def device_cookie(settings: Settings, value: str) -> Cookie:
    """Marks a browser that signed in to an account before (survey/auth/throttle.py)."""
    return Cookie(
        key=throttle.DEVICE_COOKIE,
        value=value,
        path="/login",
        max_age=throttle.DEVICE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )


def login_cookie(settings: Settings, value: str) -> Cookie:
    return Cookie(
        key=LOGIN_COOKIE,
        value=value,
        path="/login",
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def done_cookie(
    settings: Settings, username: str, now: float | None = None, *, what: str = "set",
    path: str = "/login",
) -> Cookie:  # fmt: skip
    """A short signed note that `what` was done for `username`, for the next page at `path`
    (a confirmation in a page's address alone could be faked by a link)."""
    name = base64.urlsafe_b64encode(username.encode()).decode().rstrip("=")
    body = f"{name}.{int((now or time.time()) + DONE_SECONDS)}"
    return Cookie(
        key=DONE_COOKIE,
        value=f"{body}.{_mac(settings.secret_key, f'done|{what}|{body}')}",
        path=path,
        max_age=DONE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def read_done(
    secret: str, value: str | None, now: float | None = None, *, what: str = "set"
) -> str | None:
    """The username of a valid, unexpired DONE_COOKIE saying `what`, else None."""
    if not value or value.count(".") != 2:
        return None
    body, _, mac = value.rpartition(".")
    name, expires = body.split(".")
    if not same(mac, _mac(secret, f"done|{what}|{body}")) or not expires.isdigit():
        return None
    if int(expires) < (now or time.time()):
        return None
    try:
        return base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
    except ValueError:
        return None


def is_staff_path(path: str) -> bool:
    return path.startswith(STAFF_PREFIXES)


async def _user_id(
    request: Request[Any, Any, Any], settings: Settings
) -> tuple[int, str, bool, int | None]:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        try:
            user_id = await queries.user_for_token(hash_token(header[7:].strip()))
        except queries.TokenRefused as exc:
            raise LoginRequired(str(exc)) from None
        return user_id, "", True, None
    session = read_session(settings.secret_key, request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise LoginRequired(N_("Please sign in."))
    return session.user_id, session.nonce, False, session.epoch


async def signed_in(request: Request[Any, Any, Any], state: State) -> Scope:
    """Any signed-in user (session cookie or Bearer token); 401 otherwise."""
    settings: Settings = state.settings
    user_id, nonce, via_token, epoch = await _user_id(request, settings)
    scope = await queries.load_scope(user_id, epoch)
    if scope is None:
        raise LoginRequired(N_("Please sign in."))
    csrf = csrf_token(settings.secret_key, nonce) if nonce else ""
    if via_token:
        limit = await queries.token_organizations(
            hash_token(request.headers.get("authorization", "")[7:].strip())
        )
        # a token limited to some job centres sees and exports only their offices
        scope = await queries.limited_scope(scope, limit)
    scope = msgspec.structs.replace(scope, csrf=csrf, via_token=via_token)
    request.state[SCOPE_STATE] = scope  # for the error pages: the user's language and menu
    return scope


async def dashboard_scope(request: Request[Any, Any, Any], state: State) -> Scope:
    """A user whose roles include results (network, admin, manager); 403 for the others."""
    scope = await signed_in(request, state)
    if not scope.may_see_dashboards:
        raise Forbidden(N_("Your role does not include the dashboards."))
    return scope


def require_office(scope: Scope, office_id: int) -> None:
    """403 for an office outside the user's scope, unknown or not (the same answer for both)."""
    if not scope.sees(office_id):
        raise Forbidden(N_("You may not see the results of this office."))


def signed_in_scope(request: Request[Any, Any, Any]) -> Scope | None:
    """The scope `signed_in` found for this request, if it ran (error pages use it)."""
    found = request.state.get(SCOPE_STATE)
    return found if isinstance(found, Scope) else None


def staff_locale(request: Request[Any, Any, Any], scope: Scope | None = None) -> str:
    """`?lang=`, else the user's saved preference, else Accept-Language, else German."""
    scope = scope or signed_in_scope(request)
    requested = request.query_params.get("lang") or (scope.locale if scope else None)
    return negotiate(requested, request.headers.get("accept-language"), UI_LOCALES)


def page_context(
    request: Request[Any, Any, Any], scope: Scope | None, locale: str, drop: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What every staff page's template uses; `drop`: query parameters the main navigation
    does not carry on (a period the page could not show)."""
    gettext = translations(locale, "staff").gettext
    return {
        "_": gettext,
        "locale": locale,
        "html_lang": locale,
        "dir": "ltr",
        "user": scope,
        "csrf": scope.csrf if scope else "",
        "path": request.url.path,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "query": dict(request.query_params),
        "keep": urlencode(
            {
                k: v
                for k, v in request.query_params.items()
                if k in KEPT and k not in drop and v and len(v) < 40
            }
        ),
        "languages": [("de", "Deutsch"), ("en", "English")],
    }
