"""The application factory."""

from __future__ import annotations

import asyncio
import logging
import os
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import anyio
import jinja2
import jinja2.runtime
from litestar import HttpMethod, Litestar, MediaType, Request, Response, get, route
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.routes import HTTPRoute
from litestar.template import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from survey import memory
from survey.assets import IMMUTABLE, REVALIDATE, Assets
from survey.auth.guard import (
    SESSION_COOKIE,
    LoginRequired,
    is_staff_path,
    read_session,
    signed_in,
)
from survey.auth.passwords import PROFILE_VARIABLE, hash_profile
from survey.auth.routes import (
    NO_PAGE,
    STAFF_UNAVAILABLE,
    WRONG_METHOD,
    AuthController,
    StaffUnrouted,
    staff_error,
)
from survey.compression import SKIP_OPT, best_encoding, compression_config
from survey.dashboard import stored, warm
from survey.dashboard.routes import DashboardController, ResultsApiController
from survey.db import RETRY_AFTER_S, engine_lifespan, is_unavailable, make_engine
from survey.errors import DomainError
from survey.export.routes import ExportApiController, ExportController
from survey.i18n import N_, RESPOND_LOCALES, html_lang, negotiate, translations
from survey.manage import retention
from survey.manage.pages import ManagePagesController, PasswordController
from survey.manage.routes import ManageApiController
from survey.metrics import Metrics, metrics_asgi, metrics_endpoint, multiprocess
from survey.openapi import JsonSchema, YamlSchema
from survey.pagecache import PageCache
from survey.respond import page
from survey.respond.limits import RateLimiter
from survey.respond.printing import PrintController
from survey.respond.queries import LinkDirectory
from survey.respond.routes import RespondApiController, RespondController
from survey.respond.store import ResponseWriter, make_store
from survey.security import loggable_path, secure_asgi
from survey.settings import Settings

SETTLE_SECONDS = 5.0
"""How long a stopping process waits for the kept figures' rows still being written."""
FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
log = logging.getLogger("resonanz")


UNAVAILABLE = N_("Answers cannot be stored or read right now. Please try again in a minute.")


@get("/healthz", media_type=MediaType.JSON, tags=["system"], cache_control=None)
async def healthz() -> dict[str, str]:
    """The process is up and answering (it says nothing about the database: see /readyz)."""
    return {"status": "ok"}


@get("/readyz", media_type=MediaType.JSON, tags=["system"])
async def readyz(state: State) -> Response[dict[str, str]]:
    """200 when the database takes a write right now; 503 with the reason otherwise."""
    writer: ResponseWriter = state.writer
    try:
        await writer.probe()
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        return Response(
            {"status": "unavailable", "detail": _reason(exc)},
            status_code=503,
            headers={"retry-after": str(RETRY_AFTER_S), "cache-control": "no-store"},
        )
    return Response({"status": "ready"}, headers={"cache-control": "no-store"})


def _reason(exc: BaseException) -> str:
    """The first line of the database's own message, without addresses or credentials."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:200]


@get("/", include_in_schema=False, cache_control=None)
async def root(request: Request[Any, Any, State], state: State) -> Redirect:
    """Staff open the bare address (respondents always come with a link of their own): each
    role goes to its first page, a researcher to the exports; no sign-in leads to it."""
    try:
        scope = await signed_in(request, state)
    except LoginRequired:
        return Redirect("/dashboard", status_code=303, headers={"cache-control": "no-store"})
    home = "/export" if scope.may_export and not scope.may_see_dashboards else "/dashboard"
    return Redirect(home, status_code=303, headers={"cache-control": "no-store"})


@route(
    "/static/{name:path}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    include_in_schema=False,
    cache_control=None,
    opt={SKIP_OPT: True},
)
async def static_file(request: Request[Any, Any, State], name: FromPath[str]) -> Response[bytes]:
    """A file of frontend/static; under its hashed name cached for a year, else revalidated."""
    assets: Assets = request.app.state.assets
    found = assets.find(name.lstrip("/"))
    if found is None:
        return Response(
            b"There is no such file.\n",
            status_code=404,
            media_type=MediaType.TEXT,
            headers={"cache-control": "no-store"},
        )
    asset, immutable = found
    headers = {"cache-control": IMMUTABLE if immutable else REVALIDATE}
    encoding = None
    if asset.compressible:
        headers["vary"] = "Accept-Encoding"
        encoding = best_encoding(request.headers.get("accept-encoding", ""))
    etag = asset.etag if encoding is None else f'{asset.etag[:-1]}-{encoding}"'
    headers["etag"] = etag
    if etag in _etags(request.headers.get("if-none-match", "")):
        return Response(b"", status_code=304, headers=headers)
    body = asset.data
    if encoding is not None:
        headers["content-encoding"] = encoding
        if asset.ready(encoding):
            body = asset.encoded(encoding)
        else:  # the first request for it: compress off the event loop, once
            body = await anyio.to_thread.run_sync(asset.encoded, encoding)
    return Response(body, media_type=asset.media_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _plotly_template() -> bytes:
    """The charts' plotly template as a script that dashboard.js applies: once per browser
    (cached for a year under its hashed name) instead of 8 kB in every figure of a page."""
    import plotly.io as pio
    from plotly.io.json import to_json_plotly

    from analysis.charts import TEMPLATE

    template = to_json_plotly(pio.templates[TEMPLATE].to_plotly_json())
    return f"window.resonanzPlotlyTemplate = {template};\n".encode()


_PLAIN_CALLABLES = (types.FunctionType, types.MethodType, types.BuiltinFunctionType)


class _Context(jinja2.runtime.Context):
    """Jinja's context with a shorter way to call a plain function or method that takes no
    context (gettext, the pages' `num`, `qs`): `Context.call` asks every callable twice whether
    it wants one (hasattr on it and on its `__call__`), some thousand times on an overview with
    twenty offices (issue 17). Macros and whatever asks for a context, an environment or an
    evaluation context go Jinja's own way; the answer is the same."""

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if type(__obj) not in _PLAIN_CALLABLES or hasattr(__obj, "jinja_pass_arg"):
            return super().call(__obj, *args, **kwargs)
        kwargs.pop("_loop_vars", None)  # only a callable that takes the context needs them
        kwargs.pop("_block_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Jinja's own
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


def _templates(assets: Assets) -> TemplateConfig[JinjaTemplateEngine]:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(FRONTEND / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.context_class = _Context
    env.globals["static"] = assets.url
    env.filters["html_lang"] = html_lang
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(("/api/", "/schema")) or request.url.path in (
        "/healthz",
        "/readyz",
    )


def _error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    detail: str,
    extra: dict[str, Any] | None = None,
) -> Response[Any]:
    if _wants_json(request):
        return Response(
            {"status_code": status_code, "detail": detail, **(extra or {})},
            status_code=status_code,
            media_type=MediaType.JSON,
        )
    if is_staff_path(request.url.path):
        return staff_error(request, status_code, detail)
    locale = negotiate(
        request.query_params.get("lang"), request.headers.get("accept-language"), RESPOND_LOCALES
    )
    return page.error_page(locale, status_code, translations(locale).gettext(detail))


def _domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if exc.msgid is not None and not _wants_json(request) and is_staff_path(request.url.path):
        return staff_error(request, exc.status_code, exc)  # with its particulars, translated
    return _error_response(request, exc.status_code, exc.detail, exc.extra)


def _login_required(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    """401 with a reason for the API; a page asks the browser to sign in first."""
    if _wants_json(request):
        return Response(
            {"status_code": 401, "detail": exc.detail},
            status_code=401,
            media_type=MediaType.JSON,
            headers={"www-authenticate": 'Bearer realm="resonanz"'},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?next={quote(target, safe='/')}", status_code=303)


NO_SURVEY = N_("This survey link is unknown or no longer active.")
"""The framework's bare "Not Found" (no route matches) in a respondent's words (NO_PAGE: staff)."""


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    staff_path = is_staff_path(request.url.path)
    unrouted = exc.status_code == 404 and exc.detail == "Not Found"  # no route answers
    if not _wants_json(request) and (unrouted or (exc.status_code == 405 and staff_path)):
        session = read_session(
            request.app.state.settings.secret_key, request.cookies.get(SESSION_COOKIE)
        )
        staff = staff_path or session is not None  # a signed-in user: not the client's page
        detail = WRONG_METHOD if exc.status_code == 405 else NO_PAGE if staff else NO_SURVEY
        if session is not None:  # their language and menu, as on every page
            return StaffUnrouted(request, session, exc.status_code, detail, exc.headers)
        exc = HTTPException(status_code=exc.status_code, detail=detail, headers=exc.headers)
    if exc.status_code == 413:
        limit = request.app.state.settings.max_body_bytes
        exc = HTTPException(
            status_code=413, detail=f"The request body is larger than {limit} bytes."
        )
    if _wants_json(request):
        body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.detail}
        if exc.extra:
            body["extra"] = exc.extra
        return Response(
            body, status_code=exc.status_code, media_type=MediaType.JSON, headers=exc.headers
        )
    response = _error_response(request, exc.status_code, exc.detail)
    response.headers.update(exc.headers or {})  # a 405's Allow
    return response


def _server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_unavailable(exc):
        return _unavailable(request, exc)
    path = loggable_path(request.url.path)
    log.exception("unhandled error on %s %s", request.method, path, exc_info=exc)
    return _error_response(request, 500, N_("Something went wrong on our side. Please try again."))


def _unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database is down, full or read-only: 503, and the client may retry (the kiosk's
    queue does); nothing was stored, so a retry with the same submission id is safe."""
    log.warning("database unavailable on %s: %s", request.method, _reason(exc))
    request.app.state.metrics.unavailable.inc()
    staff_page = not _wants_json(request) and is_staff_path(request.url.path)
    response = _error_response(request, 503, STAFF_UNAVAILABLE if staff_page else UNAVAILABLE)
    response.headers["retry-after"] = str(RETRY_AFTER_S)
    return response


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Database pool and the response writer, for as long as the app serves."""
    settings: Settings = app.state.settings
    async with engine_lifespan(app.state.engine, settings.pool_size):
        writer = ResponseWriter(
            make_store(app.state.engine),
            max_batch=settings.writer_batch_size,
            metrics=app.state.metrics,
        )
        await writer.start()
        app.state.writer = writer
        memory.freeze()  # the app's long-lived objects: no need to scan them in every collection
        try:
            yield
        finally:
            with suppress(TimeoutError):  # the kept figures' rows written after their answers
                await asyncio.wait_for(stored.settled(), SETTLE_SECONDS)
            await writer.stop()
            if multiprocess():  # this worker's gauges no longer count
                from prometheus_client import multiprocess as prometheus_multiprocess

                prometheus_multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def create_app(settings: Settings) -> Litestar:
    if settings.today is not None:
        log.warning(
            "RESONANZ_TODAY=%s: the dashboards publish months as if today were that day "
            "(for demos and tests only)",
            settings.today.isoformat(),
        )
    if hash_profile() == "test":
        log.warning(
            "%s=test: passwords are hashed with argon2's cheapest parameters "
            "(for the test suite only)",
            PROFILE_VARIABLE,
        )
    assets = Assets(FRONTEND / "static")
    assets.add("js/plotly-template.js", _plotly_template())
    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            metrics_endpoint,
            root,
            RespondController,
            RespondApiController,
            PrintController,
            AuthController,
            DashboardController,
            ResultsApiController,
            ExportController,
            ExportApiController,
            static_file,
            ManagePagesController,
            PasswordController,
            ManageApiController,
        ],
        lifespan=[lifespan, retention.daily, warm.warming],
        template_config=_templates(assets),
        compression_config=compression_config(),
        exception_handlers={
            LoginRequired: _login_required,
            DomainError: _domain_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
        # the schema as JSON and YAML only: the HTML viewers load scripts from CDNs, which the
        # Content-Security-Policy blocks (and respondents' privacy forbids)
        openapi_config=OpenAPIConfig(
            title="Resonanz API",
            version="1",
            render_plugins=[JsonSchema(), YamlSchema()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="An API token (rz_...) from /manage/tokens or "
                        "`resonanz create-token`; expires, can be revoked.",
                    )
                }
            ),
        ),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        logging_config=None,
    )
    _allow_every_method(app)
    app.state = State({"built": _Built(app.asgi_handler, assets, settings.max_body_bytes)})
    return bind(app, settings)


@dataclass(frozen=True, slots=True)
class _Built:
    """What `create_app` built an app with: its own ASGI handler (before `bind` wraps it), its
    assets and its body limit."""

    handler: ASGIApp
    assets: Assets
    max_body_bytes: int


def bind(app: Litestar, settings: Settings) -> Litestar:
    """Give an app made by `create_app` everything that holds data, new, for `settings`: its
    engine, caches, rate limiter and metrics (with the middleware that counts into them).
    `create_app` ends with it; the test suite calls it again to reuse one app's routes (their
    registration takes most of `create_app`'s 0.2 s) for a test of its own. The routes, the
    templates and the body limit stay as built."""
    built: _Built = app.state.built
    if settings.max_body_bytes != built.max_body_bytes:
        raise ValueError("the app was built for another body limit: create a new one")
    metrics = Metrics()
    app.state = State(
        {
            "built": built,
            "settings": settings,
            "engine": make_engine(settings),
            "directory": LinkDirectory(settings.link_cache_seconds),
            "limiter": RateLimiter(),
            "assets": built.assets,
            "page_cache": PageCache(),
            "metrics": metrics,
        }
    )
    # around everything Litestar does, 404 and 405 included (route middleware never sees them)
    # the dashboard's kept rows are written once each answer is sent, and the process's
    # objects frozen once its first figures are made (`stored.after_answer`)
    handler = head_as_get(stored.after_answer(built.handler))
    app.asgi_handler = secure_asgi(metrics_asgi(handler, metrics), settings.hsts_seconds)
    return app


def head_as_get(app: ASGIApp) -> ASGIApp:
    """HEAD answered as GET without the body (RFC 9110 §9.3.2): the same status and headers,
    Content-Length included. Litestar answers 405 to HEAD on a route that lists only GET, so
    monitors and link checkers that probe with HEAD (/healthz, a survey link) saw an error."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await app(cast("Scope", {**scope, "method": "GET"}), receive, headers_only)

    return asgi


def _allow_every_method(app: Litestar) -> None:
    """OPTIONS answers list every method of the path. Litestar (2.25) builds the OPTIONS
    handler with a path's first route and keeps it when a controller adds more methods to the
    path later, so `Allow` listed only some (`OPTIONS /api/v1/links` said POST, not GET)."""
    for path_route in app.routes:
        if not isinstance(path_route, HTTPRoute):
            continue
        for handler in path_route.route_handlers:
            fn = getattr(handler.fn, "__wrapped__", handler.fn)
            if getattr(fn, "__name__", "") != "options_handler" or not fn.__closure__:
                continue
            for cell in fn.__closure__:
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = path_route


def app_from_env() -> Litestar:
    """The app of one `resonanz serve --workers N` process, from the same RESONANZ_* variables
    as its parent (which created the database's secret and migrated it)."""
    from survey.cli import _configure_logging

    _configure_logging()
    return create_app(Settings.from_env().with_secret())


__all__ = ["app_from_env", "bind", "create_app"]
