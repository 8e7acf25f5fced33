"""The rate limiter: buckets that refill, per link and per address, and no address kept."""

from __future__ import annotations

from survey.respond.limits import LIMITS, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_refill_rate_then_a_wait_that_is_the_truth() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limit = LIMITS[("address", "personal")]
    assert [limiter.check("link", "personal", "192.0.2.1") for _ in range(limit.burst)] == [
        0.0
    ] * limit.burst
    wait = limiter.check("link", "personal", "192.0.2.1")
    assert wait == 60 / limit.per_minute
    clock.now += wait - 0.01
    assert limiter.check("link", "personal", "192.0.2.1") > 0, "not a moment early"
    clock.now += 0.02
    assert limiter.check("link", "personal", "192.0.2.1") == 0.0
    assert limiter.check("link", "personal", "192.0.2.2") == 0.0, "another address is free"


def test_a_link_is_limited_whatever_the_addresses() -> None:
    limiter = RateLimiter(Clock())
    limit = LIMITS[("link", "personal")]
    results = [
        limiter.check("link", "personal", f"10.0.{i // 250}.{i % 250}")
        for i in range(limit.burst + 1)
    ]
    assert results[:-1] == [0.0] * limit.burst and results[-1] > 0
    assert limiter.check("another-link", "personal", "10.9.9.9") == 0.0


def test_a_refused_attempt_takes_nothing_and_a_kiosk_bursts_further() -> None:
    limiter = RateLimiter(Clock())
    kiosk = LIMITS[("address", "kiosk")].burst
    assert kiosk >= 200, "a tablet's offline queue of a busy day arrives at once"
    assert all(limiter.check("k", "kiosk", "192.0.2.9") == 0.0 for _ in range(kiosk))
    assert limiter.check("k", "kiosk", "192.0.2.9") > 0


def test_no_address_is_kept_in_the_clear() -> None:
    limiter = RateLimiter(Clock())
    limiter.check("link", "personal", "203.0.113.77")
    assert "203.0.113.77" not in repr(limiter._buckets)
    assert RateLimiter(Clock())._address_key("203.0.113.77") != limiter._address_key(
        "203.0.113.77"
    ), "the key is made anew in each process"


def test_behind_a_trusted_proxy_the_client_is_the_last_hop_it_names() -> None:
    from types import SimpleNamespace

    from survey.respond.routes import client_address

    def request(peer: str, forwarded: str = "") -> object:
        return SimpleNamespace(
            client=SimpleNamespace(host=peer), headers={"x-forwarded-for": forwarded}
        )

    proxies = ("10.0.0.2",)
    assert client_address(request("10.0.0.2", "198.51.100.7"), proxies) == "198.51.100.7"  # type: ignore[arg-type]
    spoofed = request("10.0.0.2", "1.2.3.4, 198.51.100.7")  # the client wrote the first hop
    assert client_address(spoofed, proxies) == "198.51.100.7"  # type: ignore[arg-type]
    direct = request("198.51.100.9", "1.2.3.4")  # not a proxy: its header means nothing
    assert client_address(direct, proxies) == "198.51.100.9"  # type: ignore[arg-type]
    # a proxy that names nobody: no bucket per address, not one bucket for all its clients
    assert client_address(request("10.0.0.2"), proxies) is None  # type: ignore[arg-type]
    assert client_address(request("10.0.0.2", "10.0.0.2"), proxies) is None  # type: ignore[arg-type]
