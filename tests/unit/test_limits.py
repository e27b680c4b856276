"""Teams' limits kept on our side: per conversation, and per app per tenant (each tenant its own 50/s)."""

from __future__ import annotations

from bot.teams.limits import RetryPolicy, TeamsRateLimiter


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_each_tenant_has_its_own_requests_a_second() -> None:
    clock = Seconds()
    limiter = TeamsRateLimiter(tenant_limits=((1.0, 40),), clock=clock, sleep=clock.sleep)
    for _ in range(40):
        await limiter.acquire(None, "luleå")
        await limiter.acquire(None, "piteå")  # another municipality's tenant: not held back by Luleå's
    assert clock.slept == []
    await limiter.acquire(None, "luleå")  # the 41st in Luleå's second waits
    assert sum(clock.slept) > 1.0


async def test_a_429_for_member_look_ups_holds_that_tenant_only() -> None:
    clock = Seconds()
    limiter = TeamsRateLimiter(clock=clock, sleep=clock.sleep)
    limiter.back_off(None, 5.0, "luleå")
    await limiter.acquire(None, "piteå")
    assert clock.slept == []
    await limiter.acquire(None, "luleå")
    assert sum(clock.slept) >= 5.0


def test_retry_after_is_a_floor_and_backoff_doubles() -> None:
    policy = RetryPolicy()
    assert policy.delay(0, None, lambda: 1.0) == 2.0
    assert policy.delay(3, None, lambda: 1.0) == 16.0
    assert policy.delay(0, 30.0, lambda: 1.0) == 30.0
    assert policy.delay(20, None, lambda: 1.0) == policy.most
    assert 1.0 <= policy.delay(0, None, lambda: 0.0) < 2.0
