"""Settings: one frozen dataclass built from RESONANZ_* environment variables."""

from __future__ import annotations

import datetime as dt
import math
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


class SettingsError(ValueError):
    """A RESONANZ_* variable has an invalid value; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///resonanz.sqlite3"
    """Where the data lives: `sqlite:///path` (default `./resonanz.sqlite3`) or `postgresql://...`."""
    host: str = "127.0.0.1"
    """Interface the server listens on."""
    port: int = 8000
    """TCP port the server listens on."""
    secret_key: str = ""
    """Key for signing sessions and CSRF tokens; generated and stored on first run when unset."""
    base_url: str = ""
    """Public URL of the app (used in QR codes and printed links); defaults to http://host:port."""
    min_responses: int = 10
    """Below this many responses a figure is shown as 'too few responses'."""
    max_body_bytes: int = 32 * 1024
    """Largest request body accepted from respondents."""
    link_cache_seconds: float = 5.0
    """How long a link lookup is reused before the database is asked again."""
    writer_batch_size: int = 512
    """Most submissions committed in one group commit."""
    pool_size: int = 10
    """Largest number of PostgreSQL connections per process."""
    secure_cookies: bool = False
    """Mark staff cookies Secure (set when served behind https)."""
    export_k: int = 5
    """k of the exports' k-anonymity: every published combination of quasi-identifiers
    (job centre, office, service type, language, mode, period) occurs at least this often."""
    export_period: str = "month"
    """Finest period of the exports: "month" or "quarter"."""
    metrics_token: str = ""
    """Bearer token that opens /metrics; without one, /metrics answers loopback clients only."""
    hsts_seconds: int = 0
    """Strict-Transport-Security max-age on every answer; 0 sends none (https only)."""
    rate_limits: bool = True
    """Limit submissions per link and per client address (survey/respond/limits.py); off
    only for load tests."""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    """Addresses of reverse proxies whose X-Forwarded-For names the client, for the rate
    limits per address (comma-separated; loopback by default, as nginx on the same host)."""
    privacy_controller: str = ""
    """Privacy notice: who is responsible for the data, when a job centre has not said so itself
    (name and postal address; `\n` starts a new line)."""
    privacy_officer: str = ""
    """Privacy notice: how to reach the data protection officer, when a job centre has not said
    so itself (`\n` starts a new line)."""
    warm_after_seconds: float = 30.0
    """Seconds after start-up before the dashboards' default views are worked out in the
    background (survey/dashboard/warm.py), and again each time a month is published; 0: never."""
    today: dt.date | None = None
    """The date the dashboards take as today when they decide which months are published
    (RESONANZ_TODAY=YYYY-MM-DD), for demos and tests only: `resonanz serve` refuses to start
    with it, and the app logs a warning. Unset (the default): the real date."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read RESONANZ_* variables; raise SettingsError naming the first bad one."""
        env = os.environ if env is None else env
        defaults = cls()
        database_url = _database_url(env.get("RESONANZ_DATABASE_URL", defaults.database_url))
        secret = env.get("RESONANZ_SECRET_KEY") or ""
        settings = cls(
            database_url=database_url,
            host=env.get("RESONANZ_HOST", defaults.host) or defaults.host,
            port=_int(env, "RESONANZ_PORT", defaults.port, 1, 65535),
            secret_key=secret,
            base_url=_base_url(env.get("RESONANZ_BASE_URL", "")),
            min_responses=_int(env, "RESONANZ_MIN_RESPONSES", defaults.min_responses, 1, 10_000),
            max_body_bytes=_int(
                env, "RESONANZ_MAX_BODY_BYTES", defaults.max_body_bytes, 1024, 10**7
            ),
            link_cache_seconds=_float(
                env, "RESONANZ_LINK_CACHE_SECONDS", defaults.link_cache_seconds
            ),
            writer_batch_size=_int(
                env, "RESONANZ_WRITER_BATCH_SIZE", defaults.writer_batch_size, 1, 10_000
            ),
            pool_size=_int(env, "RESONANZ_POOL_SIZE", defaults.pool_size, 1, 500),
            secure_cookies=_bool(env, "RESONANZ_SECURE_COOKIES", defaults.secure_cookies),
            export_k=_int(env, "RESONANZ_EXPORT_K", defaults.export_k, 2, 1000),
            export_period=_choice(
                env, "RESONANZ_EXPORT_PERIOD", defaults.export_period, ("month", "quarter")
            ),
            metrics_token=env.get("RESONANZ_METRICS_TOKEN", ""),
            hsts_seconds=_int(
                env, "RESONANZ_HSTS_SECONDS", defaults.hsts_seconds, 0, 2 * 365 * 86400
            ),
            rate_limits=_bool(env, "RESONANZ_RATE_LIMITS", defaults.rate_limits),
            trusted_proxies=tuple(
                a.strip()
                for a in env.get(
                    "RESONANZ_TRUSTED_PROXIES", ",".join(defaults.trusted_proxies)
                ).split(",")
                if a.strip()
            ),
            privacy_controller=_lines(env.get("RESONANZ_PRIVACY_CONTROLLER", "")),
            privacy_officer=_lines(env.get("RESONANZ_PRIVACY_OFFICER", "")),
            warm_after_seconds=_float(
                env, "RESONANZ_WARM_AFTER_SECONDS", defaults.warm_after_seconds
            ),
            today=_date(env, "RESONANZ_TODAY"),
        )
        if secret and len(secret) < 32:
            raise SettingsError("RESONANZ_SECRET_KEY must be at least 32 characters long")
        return settings

    def with_secret(self) -> Settings:
        """Return settings with a secret key: the given one, or one stored next to the database."""
        if self.secret_key:
            return self
        from dataclasses import replace

        path = (
            self.sqlite_path.with_suffix(".secret") if self.is_sqlite else Path(".resonanz.secret")
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of two processes starting at once, one writes and both read that key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48) + "\n")
        key = ""
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                break
            time.sleep(0.01)
        return replace(self, secret_key=key)


def _database_url(value: str) -> str:
    if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return value
    parsed = urlparse(value)
    if parsed.scheme in ("postgresql", "postgres") and parsed.path.strip("/"):
        return value
    raise SettingsError(
        "RESONANZ_DATABASE_URL must be sqlite:///PATH or postgresql://USER@HOST:PORT/DB, "
        f"got {value!r}"
    )


def _lines(value: str) -> str:
    """A multi-line text from one environment variable: a literal `\n` starts a new line."""
    return "\n".join(line.strip() for line in value.replace("\\n", "\n").splitlines()).strip()


def _base_url(value: str) -> str:
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"RESONANZ_BASE_URL must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise SettingsError(f"{name} must be a finite number, not negative, got {raw!r}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _date(env: Mapping[str, str], name: str) -> dt.date | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a date as YYYY-MM-DD, got {raw!r}") from None
    if not 2000 <= value.year <= 2100 or len(raw) != 10:
        raise SettingsError(
            f"{name} must be a date as YYYY-MM-DD between 2000 and 2100, got {raw!r}"
        )
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")
