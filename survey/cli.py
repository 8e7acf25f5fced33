"""The `resonanz` command: serve | demo | migrate | create-user | i18n."""

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
    _check_port(settings)
    asyncio.run(_migrate(settings))
    _serve(settings)
    return 0


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
    if len(password) < 10:
        print("resonanz: the password must have at least 10 characters", file=sys.stderr)
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
        if await User.exists().where(User.username == args.username):
            raise ValueError(f"a user named {args.username!r} exists already")
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


def _where(settings: Settings) -> str:
    if settings.is_sqlite:
        return str(settings.sqlite_path)
    url = urlsplit(settings.database_url)  # without user and password
    return f"PostgreSQL at {url.hostname or 'localhost'}:{url.port or 5432}{url.path}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="resonanz", description="Resonanz survey platform")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="migrate and serve").set_defaults(func=cmd_serve)
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
