"""The `resonanz` command run in the test's own process: `survey.cli.main` with the given
environment, its output captured. For tests of what a command does and says; each command
keeps a test that starts it as its own process (`python -m survey.cli`), which a user runs
(each such process cost the suite about a second of CPU: Python and the app's imports)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from unittest import mock


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    with mock.patch.dict(os.environ, env):
        yield


def run_cli(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`resonanz ARGS` as `subprocess.run(..., capture_output=True, text=True)` would
    answer it; in a thread of its own, since the commands call `asyncio.run`. The tables are
    bound to the test's engine again afterwards (a command binds them to its own)."""
    import survey.piccolo_conf as conf
    from survey.cli import main
    from survey.db import use_engine

    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                return main(args)
            except SystemExit as exc:
                return exc.code if isinstance(exc.code, int) else 1

    engine = getattr(conf, "DB", None)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            code = pool.submit(run).result()
    finally:
        if engine is not None:
            use_engine(engine)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
