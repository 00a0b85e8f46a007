"""The per-link limit on forms: a token bucket per link."""

from __future__ import annotations

from duban.web.ratelimit import RateLimit


def test_a_link_may_post_a_burst_then_one_at_the_refill_rate() -> None:
    """A bucket of ``per_minute`` tokens per link, refilled continuously; links are separate."""
    now = [0.0]
    limit = RateLimit(per_minute=3, now=lambda: now[0])
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b")
    now[0] = 19.0  # 19 s at 3 a minute: not yet one token back
    assert not limit.allow("a")
    now[0] = 20.5
    assert limit.allow("a") and not limit.allow("a")
    now[0] = 1000.0  # a long pause refills the bucket, never beyond its size
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
