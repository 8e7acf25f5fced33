"""kill -9 under load: a real `resonanz serve` process is killed while clients submit, then
started again; every submission it acknowledged must be stored, once.

Used by tests/integration/test_crash.py (small) and bench/crash.py (longer, several kills).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ANSWERS = {"respect": 5, "understood": 4, "explained": 4, "next_steps": 3, "fits": 4,
           "waiting": 2, "overall": 4, "recommend": 9}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortTaken(RuntimeError):
    """The server could not listen on its port."""


@dataclass
class Server:
    database_url: str
    workdir: Path
    secret: str = "crash-test-secret-key-that-is-long-enough-0123456789"
    workers: int = 1
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> None:
        for attempt in range(3):
            try:
                return self._start(timeout)
            except PortTaken:
                # an outgoing connection took the port between choosing and binding it (r30):
                # another port; the tests read `base` after each start
                if attempt == 2:
                    raise
                self.port = free_port()

    def _start(self, timeout: float) -> None:
        env = {
            **os.environ,
            "RESONANZ_DATABASE_URL": self.database_url,
            "RESONANZ_PORT": str(self.port),
            "RESONANZ_SECRET_KEY": self.secret,
            **self.env,
        }
        args = [sys.executable, "-m", "survey.cli", "serve"]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        self.proc = subprocess.Popen(
            args,
            cwd=self.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "server.log", "ab"),  # noqa: SIM115
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        # one client for all the polls: each new httpx client builds a TLS context (about
        # 25 ms of CPU), which ten polls a second took from the server starting up
        with httpx.Client(timeout=5) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    log = (self.workdir / "server.log").read_text()[-2000:]
                    if "address already in use" in log.lower():
                        raise PortTaken(log)
                    raise RuntimeError(f"the server ended with {self.proc.returncode}: {log}")
                try:
                    if http.get(self.base + "/readyz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise RuntimeError("the server did not become ready")

    def processes(self) -> int:
        """The server's process and every process under it."""
        assert self.proc is not None
        found, todo = 0, [self.proc.pid]
        while todo:
            pid = todo.pop()
            found += 1
            children = Path(f"/proc/{pid}/task/{pid}/children")
            if children.exists():
                todo += [int(c) for c in children.read_text().split()]
        return found

    def kill(self) -> None:
        """SIGKILL to the server and every process it started (workers included)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


@dataclass
class Load:
    acknowledged: set[str] = field(default_factory=set)
    sent: set[str] = field(default_factory=set)
    errors: int = 0


async def submit_until(
    base: str, token: str, load: Load, *, clients: int, stop: asyncio.Event, limit: int
) -> None:
    """`clients` loops, each POSTing new submissions until `stop` is set or `limit` were
    sent; an id counts as acknowledged only when the server answered 201 or 200."""

    async def one_client(client: httpx.AsyncClient) -> None:
        while not stop.is_set() and len(load.sent) < limit:
            sid = str(uuid.uuid4())
            load.sent.add(sid)
            body = {"link": token, "submission_id": sid, "answers": ANSWERS}
            try:
                answer = await client.post(base + "/api/v1/responses", json=body)
            except httpx.HTTPError:
                load.errors += 1
                await asyncio.sleep(0.05)
                continue
            if answer.status_code in (200, 201):
                load.acknowledged.add(sid)
            else:
                load.errors += 1

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        await asyncio.gather(*(one_client(client) for _ in range(clients)))


async def load_and_kill(
    server: Server, token: str, *, clients: int, kill_after: int, limit: int
) -> Load:
    """Submit from `clients` loops and kill -9 the server once `kill_after` were acknowledged."""
    load = Load()
    stop = asyncio.Event()
    task = asyncio.create_task(
        submit_until(server.base, token, load, clients=clients, stop=stop, limit=limit)
    )
    while len(load.acknowledged) < kill_after and not task.done():
        await asyncio.sleep(0.01)
    server.kill()
    await asyncio.sleep(0.3)  # in-flight requests fail now
    stop.set()
    await task
    return load


async def resend(base: str, token: str, ids: set[str]) -> dict[str, int]:
    """What a kiosk queue does after the outage: send every id again; the status of each
    (200: it was stored before, 201: stored now)."""
    statuses: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        for sid in sorted(ids):
            body = {"link": token, "submission_id": sid, "answers": ANSWERS}
            statuses[sid] = (await client.post(base + "/api/v1/responses", json=body)).status_code
    return statuses
