"""Counting a day's digests to one person across plans, each message once."""

from __future__ import annotations

from domain.queries.outbox import DigestsSent


def test_a_persons_digests_are_those_at_their_address_or_under_the_plans_asked() -> None:
    """甲镇's head at h@ got one under the old plan and one under the new; another head of the
    new plan's 甲镇 row, at x@, one under the new plan."""
    sent = DigestsSent(
        {("old", "t1/head", "h@"): 1, ("new", "t1/head", "h@"): 1, ("new", "t1/head", "x@"): 1}
    )
    assert sent.to("t1/head", "h@", ["old"]) == 2  # at h@ under either plan
    assert sent.to("t1/head", "h@", ["new"]) == 3  # and the new plan's to x@ (each once)
    assert sent.to("t1/head", "x@", ["old"]) == 2  # x@ once, and the old plan's to h@
    assert sent.to("t1/head", None, ["old", "old"]) == 1  # no address: the plans' own
    assert sent.to("t2/head", "h@", ["old", "new"]) == 0
