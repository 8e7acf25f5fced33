"""Prometheus metrics: requests by route, stored responses, the writer, failed sign-ins.

Routes are labelled with their template (`/s/{token}`), never the path itself, so a link
token never reaches a metric. With `resonanz serve --workers N` every worker writes its
values to files in PROMETHEUS_MULTIPROC_DIR (set by `serve`) and /metrics adds them up, so
whichever worker answers, the figures are those of all of them.
"""

from __future__ import annotations

import ipaddress
import os
import time
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

disable_created_metrics()  # type: ignore[no-untyped-call]  # a `_created` twin of every series only doubles the scrape

UNMATCHED = "<unmatched>"
"""The route label of a request no route took (404)."""
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "resonanz_http_requests", "HTTP requests answered", ["method", "route", "status"],
            registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "resonanz_http_request_duration_seconds", "Time to answer, by route",
            ["method", "route"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.stored = Counter(
            "resonanz_responses", "Submissions by outcome (created, duplicate, conflict)",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.store_failures = Counter(
            "resonanz_writer_failed_batches", "Batches the database did not take", registry=r
        )
        self.queue_depth = Gauge(
            "resonanz_writer_queue_depth", "Submissions waiting for the writer",
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.batch_size = Histogram(
            "resonanz_writer_batch_size", "Submissions committed together (group commit)",
            buckets=_BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.commit_seconds = Histogram(
            "resonanz_writer_commit_duration_seconds", "Time to commit one batch",
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.login_failures = Counter(
            "resonanz_login_failures", "Failed sign-ins by reason", ["reason"], registry=r
        )
        self.unavailable = Counter(
            "resonanz_database_unavailable", "Answers 503 because the database was unavailable",
            registry=r,
        )  # fmt: skip

    def batch(self, size: int, seconds: float, outcomes: list[str]) -> None:
        self.batch_size.observe(size)
        self.commit_seconds.observe(seconds)
        for outcome in outcomes:
            self.stored.labels(outcome).inc()

    def exposition(self) -> bytes:
        if multiprocess():
            registry = CollectorRegistry()
            prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


def metrics_asgi(app: ASGIApp, metrics: Metrics) -> ASGIApp:
    """Count and time every HTTP request under its route template."""

    async def measured(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        started = time.perf_counter()
        status = [500]

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await app(scope, receive, watch)
        finally:
            route = scope.get("path_template") or UNMATCHED
            metrics.requests.labels(method, route, str(status[0])).inc()
            metrics.latency.labels(method, route).observe(time.perf_counter() - started)

    return measured


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _from_loopback(request: Request[Any, Any, Any]) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@get("/metrics", include_in_schema=False, cache_control=None)
async def metrics_endpoint(request: Request[Any, Any, State], state: State) -> Response[bytes]:
    """Prometheus text format; only to loopback clients unless RESONANZ_METRICS_TOKEN is set,
    then only with that token (behind nginx: deny /metrics there, see docs/operations.md)."""
    import hmac

    token: str = state.settings.metrics_token
    given = request.headers.get("authorization", "")
    allowed = (
        hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
        if token
        else _from_loopback(request)
    )
    if not allowed:
        return Response(
            b"Metrics are not available to this client.\n",
            status_code=403,
            media_type="text/plain",
            headers={"cache-control": "no-store"},
        )
    metrics: Metrics = state.metrics
    return Response(
        metrics.exposition(),
        media_type=CONTENT_TYPE_LATEST,
        headers={"cache-control": "no-store"},
    )
