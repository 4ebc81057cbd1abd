"""The token buckets: per key, refilling with time, and bounded in number."""

from __future__ import annotations

from gateway.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_budget_then_waits_for_the_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=2, clock=clock)
    assert limiter.wait("a") == 0.0  # asking takes nothing
    assert [limiter.take("a"), limiter.take("a")] == [0.0, 0.0]
    assert limiter.wait("a") == limiter.take("a") == 30.0  # one token every 30 s
    assert limiter.take("b") == 0.0  # another key has its own budget
    clock.now = 30.0
    assert limiter.take("a") == 0.0


def test_past_max_keys_full_buckets_are_forgotten_and_busy_ones_kept() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=1, clock=clock, max_keys=3)
    limiter.take("busy")  # empty now: must not be forgotten (that would reset its budget)
    limiter.wait("idle-1")
    limiter.wait("idle-2")  # three buckets: the limit
    assert limiter.take("new") == 0.0  # the two full ones go to make room
    assert limiter.take("busy") == 60.0
    assert limiter.wait("idle-1") == 0.0  # a forgotten bucket is a full one again
