from __future__ import annotations

import datetime as dt

import pytest

from survey.settings import Settings, SettingsError


def test_it_has_working_defaults() -> None:
    s = Settings.from_env({})
    assert (s.database_url, s.host, s.port) == ("sqlite:///resonanz.sqlite3", "127.0.0.1", 8000)
    assert s.public_url == "http://127.0.0.1:8000"
    assert s.today is None, "the dashboards go by the real date unless told otherwise"
    assert Settings.from_env({"RESONANZ_TODAY": "2026-12-02"}).today == dt.date(2026, 12, 2)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESONANZ_PORT", "eighty"),
        ("RESONANZ_PORT", "70000"),
        ("RESONANZ_DATABASE_URL", "mysql://x/y"),
        ("RESONANZ_BASE_URL", "example.org"),
        ("RESONANZ_SECRET_KEY", "short"),
        ("RESONANZ_SECURE_COOKIES", "maybe"),
        ("RESONANZ_LINK_CACHE_SECONDS", "inf"),
        ("RESONANZ_LINK_CACHE_SECONDS", "-1"),
        ("RESONANZ_TODAY", "tomorrow"),
        ("RESONANZ_TODAY", "2026-13-01"),
        ("RESONANZ_TODAY", "1066-10-14"),
        ("RESONANZ_TODAY", "20261202"),
    ],
)
def test_it_names_the_variable_with_a_bad_value(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_it_generates_and_keeps_a_secret_next_to_the_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings.from_env({"RESONANZ_DATABASE_URL": f"sqlite:///{tmp_path}/r.sqlite3"})
    first = s.with_secret().secret_key
    assert len(first) >= 32
    assert s.with_secret().secret_key == first
    assert (tmp_path / "r.secret").stat().st_mode & 0o077 == 0


def test_both_readmes_document_every_variable() -> None:
    """Each RESONANZ_* variable the settings (and the password hashing) read has a row in
    the English and German table."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    read = {
        name
        for source in ("survey/settings.py", "survey/auth/passwords.py")
        for name in re.findall(r'"(RESONANZ_[A-Z_]+)"', (root / source).read_text())
    }
    assert len(read) >= 10
    for readme in ("README.md", "README.de.md"):
        rows = set(re.findall(r"^\| `(RESONANZ_[A-Z_]+)` \|", (root / readme).read_text(), re.M))
        assert rows == read, f"{readme}: missing {read - rows}, unknown {rows - read}"
