"""The `resonanz` command: serve | demo | migrate | setup | import | retention | create-user |
create-token | export | backup | restore | poster | i18n."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import logging
import socket
import sqlite3
import sys
import warnings
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from survey.settings import Settings, SettingsError

API_TOKEN_DAYS = 90  # survey.tables.API_TOKEN_DAYS; not imported here to keep `--help` fast

if TYPE_CHECKING:
    from piccolo.engine.base import Engine


def _settings() -> Settings:
    try:
        return Settings.from_env().with_secret()
    except SettingsError as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


class DatabaseUnavailable(Exception):
    """The database named by RESONANZ_DATABASE_URL cannot be opened; the message says why."""


@asynccontextmanager
async def _migrated(settings: Settings) -> AsyncIterator[Engine[Any]]:
    """The database, migrated, with its pool open for a command's work."""
    import asyncpg

    from survey.db import engine_lifespan, make_engine, migrate

    engine = make_engine(settings)
    try:
        await migrate(engine)
    except (OSError, asyncpg.PostgresError, sqlite3.OperationalError) as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot open the database {_where(settings)} (RESONANZ_DATABASE_URL): {reason}"
        ) from exc
    async with engine_lifespan(engine, 2):
        yield engine


def _check_port(settings: Settings) -> None:
    """Stop before printing URLs when the address is taken (they would lead elsewhere)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            print(
                f"resonanz: cannot listen on {settings.host}:{settings.port} "
                f"(RESONANZ_HOST, RESONANZ_PORT): {exc.strerror or exc}",
                file=sys.stderr,
            )
            raise SystemExit(2) from None


async def _migrate(settings: Settings) -> None:
    from survey.demo import ensure_standard_questionnaire

    async with _migrated(settings):
        await ensure_standard_questionnaire()


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    asyncio.run(_migrate(settings))
    print(f"migrated {_where(settings)}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.today is not None:
        print(
            "resonanz: RESONANZ_TODAY fixes the date by which the dashboards publish months; "
            "it is for `resonanz demo` and tests only (unset it to serve)",
            file=sys.stderr,
        )
        return 2
    if args.workers > 1 and settings.is_sqlite:
        print(
            "resonanz: --workers needs PostgreSQL; SQLite has a single writer and runs in one "
            "process (set RESONANZ_DATABASE_URL=postgresql://... or leave out --workers)",
            file=sys.stderr,
        )
        return 2
    _check_port(settings)
    asyncio.run(_migrate(settings))
    if args.workers > 1:
        _serve_workers(settings, args.workers)
    else:
        _serve(settings)
    return 0


def _serve_workers(settings: Settings, workers: int) -> None:
    """N uvicorn worker processes on one port, each with its own app, pool and writer; they
    share nothing but the database (and a folder where they add up their metrics)."""
    import os
    import tempfile

    import uvicorn

    _configure_logging()
    with tempfile.TemporaryDirectory(prefix="resonanz-metrics-") as metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        os.environ["RESONANZ_SECRET_KEY"] = settings.secret_key  # the same key in every worker
        uvicorn.run(
            "survey.app:app_from_env",
            factory=True,
            workers=workers,
            host=settings.host,
            port=settings.port,
            loop="asyncio",
            access_log=False,
            server_header=False,
            log_config=None,
            proxy_headers=False,
        )


def _serve(settings: Settings) -> None:
    from survey.app import create_app

    _configure_logging()
    run_server(create_app(settings), settings)


def run_server(app: Any, settings: Settings, *, log_level: str | None = None) -> None:
    """Serve `app` with uvicorn the way `resonanz serve` does (bench/bench_server.py too).

    The event loop is asyncio's own, not uvloop: libuv accepts one new connection per loop
    iteration (libuv#3696), so under load a burst of new connections waited
    behind busy iterations (the first answers on 200 new connections came after up to
    350 ms). asyncio accepts every waiting connection at once; see docs/benchmarks.md.
    """
    import uvicorn

    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="asyncio",
        access_log=False,
        server_header=False,
        log_config=None,
        log_level=log_level,
        proxy_headers=False,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from survey.demo import DemoIncomplete

    settings = _settings()
    if not args.no_serve:
        _check_port(settings)
    try:
        summary = asyncio.run(_load_demo(settings))
    except DemoIncomplete as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        return 2
    base = settings.public_url
    print(f"demo data in {_where(settings)}: {summary.responses} responses")
    print(f"respondent: {base}/s/{summary.personal_token}")
    print(f"kiosk: {base}/k/{summary.kiosk_token}")
    print(f"dashboard: {base}/dashboard")
    if settings.today is not None:
        print(f"dashboards publish as of {settings.today.isoformat()} (RESONANZ_TODAY)")
    for role, username, password in summary.users:
        print(f"login {role}: {username} {password}")
    sys.stdout.flush()
    if not args.no_serve:
        _serve(settings)
    return 0


async def _load_demo(settings: Settings):  # type: ignore[no-untyped-def]
    from survey.demo import load_demo

    async with _migrated(settings) as engine:
        return await load_demo(engine)


def cmd_create_user(args: argparse.Namespace) -> int:
    settings = _settings()
    if args.office and args.role not in ("admin", "manager"):
        print("resonanz: --office applies to --role manager or admin", file=sys.stderr)
        return 2
    try:
        password = args.password or getpass.getpass("password: ")
    except EOFError:
        print("resonanz: no password given (use --password or a terminal)", file=sys.stderr)
        return 2
    from survey.auth.passwords import password_problem

    problem = password_problem(password, args.username)
    if problem is not None:
        print(f"resonanz: {problem}", file=sys.stderr)
        return 2
    try:
        offices = asyncio.run(_create_user(settings, args, password))
    except ValueError as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        return 2
    where = f" of {', '.join(offices)}" if offices else ""
    print(f"created user {args.username} ({args.role}{where})")
    return 0


async def _create_user(settings: Settings, args: argparse.Namespace, password: str) -> list[str]:
    """Create the user with one membership, or one per office for `--office`; all or nothing.

    Returns the names of the offices the user is limited to (empty for the whole scope).
    """
    from survey.auth.passwords import hash_password
    from survey.tables import Membership, Network, Office, Organization, User

    async with _migrated(settings) as engine:
        from survey.auth.queries import username_taken

        if await username_taken(args.username):
            raise ValueError(f"a user named {args.username!r} exists already (in some case)")
        memberships = []
        offices: list[str] = []
        if args.role == "network":
            row = await Network.select(Network.id).where(Network.slug == args.scope).first()
            if row is None:
                slugs = [r["slug"] for r in await Network.select(Network.slug)]
                raise ValueError(f"no network with slug {args.scope!r} ({_known(slugs)})")
            memberships.append(Membership(role=args.role, network=row["id"]))
        else:
            row = (
                await Organization.select(Organization.id)
                .where(Organization.slug == args.scope)
                .first()
            )
            if row is None:
                slugs = [r["slug"] for r in await Organization.select(Organization.slug)]
                raise ValueError(f"no job centre with slug {args.scope!r} ({_known(slugs)})")
            org_id = row["id"]
            if not args.office:
                memberships.append(Membership(role=args.role, organization=org_id))
            else:
                rows = await Office.select(Office.id, Office.code, Office.name).where(
                    Office.organization == org_id
                )
                by_code = {r["code"]: r for r in rows}
                unknown = [code for code in args.office if code not in by_code]
                if unknown:
                    known = ", ".join(sorted(by_code)) or "none"
                    raise ValueError(
                        f"job centre {args.scope!r} has no office with code "
                        f"{', '.join(map(repr, unknown))} (its offices: {known})"
                    )
                for code in dict.fromkeys(args.office):
                    office = by_code[code]
                    offices.append(office["name"])
                    memberships.append(
                        Membership(role=args.role, organization=org_id, office=office["id"])
                    )
        user = User(
            username=args.username,
            password_hash=hash_password(password),
            display_name=args.username,
            locale="",  # no preference yet: the browser's language until the user picks one
            created_at=dt.datetime.now(dt.UTC),
        )
        async with engine.transaction():
            await user.save()
            for membership in memberships:
                membership.user = user.id
                await membership.save()
        return offices


def _known(slugs: list[str]) -> str:
    return "known: " + ", ".join(sorted(slugs)) if slugs else "none exist yet"


def cmd_i18n(args: argparse.Namespace) -> int:
    from survey.i18n import cli as i18n_cli

    return i18n_cli.run(args)


def cmd_create_token(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        token, expires = asyncio.run(
            _create_token(settings, args.username, args.name, args.expires_days)
        )
    except ValueError as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        return 2
    until = expires.strftime("%Y-%m-%d %H:%M UTC")
    print(f"API token for {args.username} ({args.name}), valid until {until}, shown only once:")
    print(token)
    return 0


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError(f"must be between 1 and 64, got {workers}")
    return workers


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {value!r}") from None
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError(f"must be between 1 and 3650 days, got {days}")
    return days


async def _create_token(
    settings: Settings, username: str, name: str, days: int
) -> tuple[str, dt.datetime]:
    from survey.auth.guard import hash_token, new_api_token
    from survey.auth.queries import audit
    from survey.tables import ApiToken, User

    async with _migrated(settings):
        row = await User.select(User.id).where(User.username == username).first()
        if row is None:
            raise ValueError(f"no user named {username!r}")
        token = new_api_token()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        expires = now + dt.timedelta(days=days)
        await ApiToken(
            user=row["id"],
            name=name,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=expires,
        ).save()
        await audit(
            "token_created",
            user_id=row["id"],
            username=username,
            name=name,
            expires_at=expires.isoformat(),
        )
        return token, expires


def cmd_setup(args: argparse.Namespace) -> int:
    """The first network or job centre and its first admin; asks for what flags leave out."""
    settings = _settings()
    interactive = sys.stdin.isatty() and not args.no_input
    values = {
        "network_name": args.network_name,
        "network_slug": args.network_slug,
        "org_name": args.job_centre_name,
        "org_slug": args.job_centre_slug,
        "username": args.admin,
    }
    if interactive and not (values["network_slug"] or values["org_slug"]):
        values["org_name"] = input("Name of the job centre (empty for a network only): ").strip()
        if values["org_name"]:
            values["org_slug"] = input("Short name (slug), e.g. jobcenter-musterstadt: ").strip()
        values["network_name"] = input("Name of its network (empty for none): ").strip() or None
        if values["network_name"]:
            values["network_slug"] = input("Short name of the network (slug): ").strip()
    if interactive and not values["username"]:
        values["username"] = input("Username of the first admin: ").strip()
    if not values["username"]:
        print("resonanz: name the first admin with --admin USERNAME", file=sys.stderr)
        return 2
    password = args.password
    if password is None and interactive:
        try:
            password = getpass.getpass("password (empty: print a one-time link instead): ")
            if password and getpass.getpass("the same again: ") != password:
                print("resonanz: the two passwords differ", file=sys.stderr)
                return 2
        except EOFError:
            password = None
        password = password or None
    from survey.manage.setup import SetupRefused

    try:
        result = asyncio.run(_setup(settings, values, password))
    except SetupRefused as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        return 2
    what = " and ".join(
        f"{label} {slug}"
        for label, slug in (("network", result.network), ("job centre", result.organization))
        if slug
    )
    print(f"created {what}; {result.username} is its {result.role}")
    if result.set_password_url:
        print(f"set the password (one-time link, valid 7 days): {result.set_password_url}")
    print(f"sign in: {result.sign_in_url}")
    return 0


async def _setup(settings: Settings, values: dict[str, Any], password: str | None):  # type: ignore[no-untyped-def]
    from survey.manage.setup import setup

    async with _migrated(settings):
        return await setup(base_url=settings.public_url, password=password, **values)


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from survey.manage.importer import ImportRefused

    settings = _settings()
    try:
        changes = asyncio.run(_import(settings, Path(args.file), args.dry_run))
    except ImportRefused as exc:
        print(f"resonanz: {args.file} was not imported, nothing was written:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    if not changes:
        print("nothing to change")
    for line in changes:
        print(("would " if args.dry_run else "") + line)
    if args.dry_run and changes:
        print(f"dry run: {len(changes)} changes, nothing written")
    return 0


async def _import(settings: Settings, path: Any, dry_run: bool) -> list[str]:
    from survey.manage import importer

    structure = importer.read(path)
    async with _migrated(settings):
        plan = await importer.plan(path.name, structure)
        if not dry_run and plan.changes:
            await importer.apply(plan)
        return plan.changes


def cmd_retention(args: argparse.Namespace) -> int:
    settings = _settings()
    if args.action == "apply":
        rows = asyncio.run(_retention(settings, args.dry_run))
        for r in rows:
            verb = "would delete" if args.dry_run else "deleted"
            print(
                f"{r.slug}: {verb} {r.text_answers} free-text answers from before "
                f"{r.cutoff.isoformat()} (kept {r.months} months)"
            )
        if not rows:
            print("no job centres")
        return 0
    try:
        plan = asyncio.run(_erasure(settings, args.slug, None))
    except LookupError as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in plan.counts.items())
    counts += (
        f" (responses counted up to {plan.counted_before.isoformat()}: those of the month in "
        "progress are deleted too, uncounted)"
    )
    if args.dry_run:
        print(f"would delete all data of {plan.organization} ({plan.slug}): {counts}")
        return 0
    confirm = args.confirm
    if confirm is None and sys.stdin.isatty():
        print(f"This deletes all data of {plan.organization}: {counts}. It cannot be undone.")
        confirm = input(f"Type the slug ({plan.slug}) to confirm: ").strip()
    if confirm != plan.slug:
        print(
            f"resonanz: not deleted; confirm by typing the slug, or pass --confirm {plan.slug}",
            file=sys.stderr,
        )
        return 2
    done = asyncio.run(_erasure(settings, args.slug, True))
    print(f"deleted all data of {done.organization} ({done.slug}): {counts}")
    return 0


async def _retention(settings: Settings, dry_run: bool):  # type: ignore[no-untyped-def]
    from survey.manage import retention

    async with _migrated(settings):
        return await (retention.due() if dry_run else retention.apply())


async def _erasure(settings: Settings, slug: str, erase: bool | None):  # type: ignore[no-untyped-def]
    from survey.manage import retention

    async with _migrated(settings):
        return await (retention.erase(slug) if erase else retention.erasure(slug))


def cmd_poster(args: argparse.Namespace) -> int:
    """A link's QR poster (.pdf or .svg by the file's name), or its slips (--slips, with
    --codes N new one-time codes)."""
    settings = _settings()
    out: str = args.out
    kind = "slips" if args.slips or args.codes else out.rsplit(".", 1)[-1].lower()
    if kind not in ("pdf", "svg", "slips"):
        print("resonanz: --out must name a .pdf or .svg file", file=sys.stderr)
        return 2
    if kind == "slips" and not out.lower().endswith(".pdf"):
        print("resonanz: slips are a PDF: --out must end in .pdf", file=sys.stderr)
        return 2
    languages = [c.strip() for c in (args.lang or "").split(",") if c.strip()] or None
    token = args.token.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]  # a URL's last part
    try:
        data = asyncio.run(_poster(settings, token, kind, languages, args.codes))
    except Exception as exc:
        from survey.errors import DomainError
        from survey.respond.posters import MissingFonts

        if isinstance(exc, DomainError | MissingFonts):
            print(f"resonanz: {getattr(exc, 'detail', exc)}", file=sys.stderr)
            return 2
        raise
    try:
        with open(out, "wb") as f:
            f.write(data)
    except OSError as exc:
        print(f"resonanz: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({len(data):,} bytes)")
    return 0


async def _poster(
    settings: Settings, token: str, kind: str, languages: list[str] | None, count: int
) -> bytes:
    from survey.respond import codes, posters
    from survey.respond.printing import print_job

    async with _migrated(settings):
        job = await print_job(settings, token, languages, None)
        if kind == "svg":
            return posters.poster_svg(job.poster).encode()
        if kind == "pdf":
            return posters.poster_pdf(job.poster)
        made = await codes.make_codes(settings.secret_key, job.link.id, count) if count else None
        return posters.slips_pdf(job.poster, made)


def _count(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 400:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 400, got {value!r}")
    return int(value)


def cmd_export(args: argparse.Namespace) -> int:
    from survey.errors import DomainError

    settings = _settings()
    try:
        rows = asyncio.run(_export(settings, args))
    except DomainError as exc:
        print(f"resonanz: {exc.detail}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {rows} rows to {args.out}" if rows is not None else f"wrote {args.out}")
    return 0


async def _operator_scope() -> Any:
    from survey.auth.schemas import OfficeRef, Scope
    from survey.tables import Office

    rows = await Office.select(
        Office.id,
        Office.name,
        Office.code,
        Office.organization.id.as_alias("org"),
        Office.organization.name.as_alias("org_name"),
    )
    ids = frozenset(int(r["id"]) for r in rows)
    group = tuple(OfficeRef(r["id"], r["name"], r["code"], r["org"], r["org_name"]) for r in rows)
    return Scope(0, "cli", "cli", "", ("operator",), ids, group, "", exportable=ids, readable=ids)


async def _export(settings: Settings, args: argparse.Namespace) -> int | None:
    """Stream an export into a file next to its codebook (FILE.codebook.json and .md)."""
    import os
    from pathlib import Path

    from survey.auth.queries import load_scope
    from survey.export import codebook
    from survey.export.routes import export_request
    from survey.export.stream import open_comments, open_export
    from survey.tables import User

    params = {"format": args.format, "from": args.date_from, "to": args.date_to,
              "service_type": args.service_type, "language": args.language, "mode": args.mode,
              "office": args.office, "jobcentre": args.jobcentre, "labels": args.lang,
              "sep": args.sep}  # fmt: skip
    request = export_request({k: v for k, v in params.items() if v is not None})
    out = Path(args.out)
    partial = out.with_name(f".{out.name}.partial")
    async with _migrated(settings):
        if args.user:
            row = await User.select(User.id).where(User.username == args.user).first()
            scope = await load_scope(row["id"]) if row else None
            if scope is None:
                raise ValueError(f"no active user named {args.user!r}")
        else:  # the operator: every office, recorded in the audit log as "cli"
            scope = await _operator_scope()
        try:
            if args.comments:
                _, body = await open_comments(settings, scope, request, via="cli")
                rows = None
            else:
                export = await open_export(settings, scope, request, via="cli")
                body, rows = export.body(), export.plan.rows
            with partial.open("wb") as f:
                async for chunk in body:
                    f.write(chunk)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        if not args.comments:
            book = export.codebook
            out.with_name(out.name + ".codebook.json").write_bytes(codebook.to_json(book))
            out.with_name(out.name + ".codebook.md").write_text(
                codebook.to_markdown(book, request.lang)
            )
        return rows


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from survey.backup import BackupError, backup

    settings = _settings()
    try:
        size = backup(settings, Path(args.file))
    except BackupError as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        return 2
    print(f"backed up {_where(settings)} to {args.file} ({size:,} bytes)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from survey.backup import BackupError, has_responses, restore

    settings = _settings()
    try:
        if not args.replace and has_responses(settings):
            print(
                f"resonanz: {_where(settings)} holds responses; add --replace to overwrite "
                "them with the backup (stop the app first)",
                file=sys.stderr,
            )
            return 2
        restore(settings, Path(args.file))
    except BackupError as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        return 2
    asyncio.run(_migrate(settings))  # a backup of an older release: bring it up to date
    print(f"restored {args.file} into {_where(settings)} and migrated it")
    return 0


def _where(settings: Settings) -> str:
    if settings.is_sqlite:
        return str(settings.sqlite_path)
    url = urlsplit(settings.database_url)  # without user and password
    return f"PostgreSQL at {url.hostname or 'localhost'}:{url.port or 5432}{url.path}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="resonanz", description="Resonanz survey platform")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate and serve")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="worker processes (PostgreSQL only; default 1)",
    )
    serve.set_defaults(func=cmd_serve)
    demo = sub.add_parser("demo", help="migrate, load the demo once, print URLs and serve")
    demo.add_argument("--no-serve", action="store_true", help="load and print, do not serve")
    demo.set_defaults(func=cmd_demo)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    user = sub.add_parser("create-user", help="create a staff user")
    user.add_argument("username")
    user.add_argument(
        "--role", choices=["admin", "manager", "researcher", "network"], default="admin"
    )
    user.add_argument(
        "--scope",
        required=True,
        help="slug of the job centre (or of the network for --role network)",
    )
    user.add_argument(
        "--office",
        action="append",
        default=[],
        metavar="CODE",
        help="limit a manager or admin to this office of the job centre (its code); repeat "
        "for several offices. Without it the user sees the whole job centre",
    )
    user.add_argument("--password", help="password (asked for when omitted)")
    user.set_defaults(func=cmd_create_user)
    token = sub.add_parser("create-token", help="create an API token for a user (printed once)")
    token.add_argument("username")
    token.add_argument("--name", default="script", help="what the token is for")
    token.add_argument(
        "--expires-days",
        type=_days,
        default=API_TOKEN_DAYS,
        metavar="DAYS",
        help=f"days until the token stops working (default {API_TOKEN_DAYS}, at most 3650)",
    )
    token.set_defaults(func=cmd_create_token)
    setup = sub.add_parser(
        "setup", help="create the first network or job centre and its first admin"
    )
    setup.add_argument("--job-centre-name", help="e.g. 'Jobcenter Musterstadt'")
    setup.add_argument("--job-centre-slug", help="short name in addresses and files")
    setup.add_argument("--network-name", help="the benchmarking network (optional)")
    setup.add_argument("--network-slug")
    setup.add_argument("--admin", help="username of the first admin")
    setup.add_argument(
        "--password", help="without it: asked for, or a one-time link to set it is printed"
    )
    setup.add_argument("--no-input", action="store_true", help="never ask, even in a terminal")
    setup.set_defaults(func=cmd_setup)
    imp = sub.add_parser("import", help="import job centres, offices and links from a file")
    imp_sub = imp.add_subparsers(dest="what", required=True)
    structure = imp_sub.add_parser(
        "structure", help="job centres, offices, service types, links (.yaml or .csv)"
    )
    structure.add_argument("file")
    structure.add_argument(
        "--dry-run", action="store_true", help="print what would change, write nothing"
    )
    structure.set_defaults(func=cmd_import)
    ret = sub.add_parser("retention", help="delete old free text; delete a job centre's data")
    ret_sub = ret.add_subparsers(dest="action", required=True)
    ret_apply = ret_sub.add_parser(
        "apply", help="delete free-text answers older than each job centre's retention period"
    )
    ret_apply.add_argument("--dry-run", action="store_true", help="print counts, delete nothing")
    ret_apply.set_defaults(func=cmd_retention)
    ret_erase = ret_sub.add_parser(
        "delete-job-centre", help="delete all data of a job centre (asks to type its slug)"
    )
    ret_erase.add_argument("slug")
    ret_erase.add_argument("--dry-run", action="store_true", help="print counts, delete nothing")
    ret_erase.add_argument("--confirm", metavar="SLUG", help="the slug again, for scripts")
    ret_erase.set_defaults(func=cmd_retention)
    export = sub.add_parser(
        "export", help="anonymized responses (k-anonymous) into a file, with its codebook"
    )
    export.add_argument("--format", choices=["csv", "parquet", "sav", "dta"], default="csv")
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--from", dest="date_from", metavar="YYYY-MM")
    export.add_argument("--to", dest="date_to", metavar="YYYY-MM")
    export.add_argument("--service-type", dest="service_type")
    export.add_argument("--language")
    export.add_argument("--mode")
    export.add_argument("--office", help="office code number (see the codebook)")
    export.add_argument("--jobcentre", help="job centre code number (see the codebook)")
    export.add_argument("--lang", choices=["de", "en"], default="de", help="language of labels")
    export.add_argument("--sep", choices=["comma", "semicolon"], default="comma", help="CSV")
    export.add_argument(
        "--user", help="export with this user's scope (default: every job centre, as 'cli')"
    )
    export.add_argument(
        "--comments", action="store_true", help="the masked free-text answers instead"
    )
    export.set_defaults(func=cmd_export)
    backup = sub.add_parser(
        "backup", help="copy the database into a file while the app runs (SQLite or pg_dump)"
    )
    backup.add_argument("file", help="the backup file to write (readable by its owner only)")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="replace the database with a backup, then migrate")
    restore.add_argument("file", help="a file written by `resonanz backup`")
    restore.add_argument(
        "--replace", action="store_true", help="overwrite a database that holds responses"
    )
    restore.set_defaults(func=cmd_restore)
    poster = sub.add_parser("poster", help="a link's QR poster (PDF or SVG) or slips (PDF)")
    poster.add_argument(
        "token",
        help="the link's URL or token (a token that starts with '-' goes after `--`)",
    )
    poster.add_argument("--out", required=True, help="file to write: NAME.pdf or NAME.svg")
    poster.add_argument("--lang", help="languages, e.g. de,ar,uk (default: the office's)")
    poster.add_argument("--slips", action="store_true", help="a sheet of 8 slips instead")
    poster.add_argument(
        "--codes",
        type=_count,
        default=0,
        metavar="N",
        help="slips with N new one-time codes (each good for one response)",
    )
    poster.set_defaults(func=cmd_poster)
    i18n = sub.add_parser("i18n", help="translations: status | extract | update | export | import")
    from survey.i18n.cli import add_arguments

    add_arguments(i18n)
    i18n.set_defaults(func=cmd_i18n)
    args = parser.parse_args(argv)
    # Piccolo warns in colour when it cannot reach the database; _migrated says it in one line
    warnings.filterwarnings("ignore", message=r".*Unable to (connect to database|fetch server)")
    try:
        return int(args.func(args))
    except DatabaseUnavailable as exc:
        print(f"resonanz: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
