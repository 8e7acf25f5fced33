"""The CPU of a command and of every process it starts, Chromium's renderers included.

`/usr/bin/time` counts the children a process waits for; Chromium's renderers are reaped by
no process it waits for, so it missed most of the browser tests' CPU. This runs the command
as a child subreaper (Linux `prctl(PR_SET_CHILD_SUBREAPER)`): every orphan of its tree is
reparented here and reaped, so RUSAGE_CHILDREN holds them all. PostgreSQL's server is not
in the tree: read its postmaster's counters in /proc before and after (docs/testing.md).

    .venv/bin/python bench/suite_cpu.py make test
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    if ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("suite_cpu: cannot become a child subreaper (Linux only)", file=sys.stderr)
        return 2
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    code, wall = 0, 0.0
    while True:
        try:
            child, status = os.wait()
        except ChildProcessError:
            break
        if child == pid:
            code, wall = os.waitstatus_to_exitcode(status), time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"suite_cpu: user {usage.ru_utime:.1f} s, sys {usage.ru_stime:.1f} s, "
        f"CPU {usage.ru_utime + usage.ru_stime:.1f} s, wall {wall:.1f} s, exit {code}",
        file=sys.stderr,
    )
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
