"""/metrics in Prometheus text format: requests by route template (never a link token),
stored responses, the writer's batches and queue, failed sign-ins."""

from __future__ import annotations

import uuid
from dataclasses import replace

import httpx
from litestar import Litestar

from survey.app import create_app, lifespan
from survey.settings import Settings
from tests.builders import FULL_ANSWERS, make_link
from tests.conftest import StaffClient

METRICS_TOKEN = "metrics-token-for-the-test-0123456789"


async def test_it_counts_requests_by_route_and_stored_responses(
    settings: Settings,
) -> None:
    app = create_app(replace(settings, metrics_token=METRICS_TOKEN))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        link = await make_link()
        await c.get(f"/s/{link.token}")
        body = {"link": link.token, "submission_id": str(uuid.uuid4()), "answers": FULL_ANSWERS}
        assert (await c.post("/api/v1/responses", json=body)).status_code == 201
        assert (await c.post("/api/v1/responses", json=body)).status_code == 200
        await c.get("/no/such/page")
        await StaffClient(c).login("nobody", "wrong-password")
        assert (await c.get("/metrics")).status_code == 403, "not without the token"
        answer = await c.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert link.token not in text, "a route template, never the path"
    assert 'resonanz_http_requests_total{method="GET",route="/s/{token}",status="200"} 1.0' in text
    assert 'route="/api/v1/responses",status="201"} 1.0' in text
    assert 'route="<unmatched>",status="404"} 1.0' in text
    assert (
        'resonanz_http_request_duration_seconds_count{method="POST",route="/api/v1/responses"} 2.0'
        in text
    )
    assert 'resonanz_responses_total{outcome="created"} 1.0' in text
    assert 'resonanz_responses_total{outcome="duplicate"} 1.0' in text
    assert "resonanz_writer_batch_size_count 2.0" in text
    assert "resonanz_writer_queue_depth 0.0" in text
    assert 'resonanz_login_failures_total{reason="unknown_user"} 1.0' in text


async def test_it_shows_metrics_to_loopback_clients_only_without_a_token(app: Litestar) -> None:
    answers = {}
    for host in ("127.0.0.1", "203.0.113.7"):
        transport = httpx.ASGITransport(app=app, client=(host, 4711))
        async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            answers[host] = (await c.get("/metrics")).status_code
    assert answers == {"127.0.0.1": 200, "203.0.113.7": 403}
