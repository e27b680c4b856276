"""Teams' limits kept on our side: per conversation, and per app per tenant (each tenant its own 50/s)."""

from __future__ import annotations

from bisect import bisect_left

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.teams.limits import CONVERSATION_LIMITS, RetryPolicy, SlidingWindows, TeamsRateLimiter


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


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ab"), st.one_of(st.just(0.0), st.floats(0.0, 0.3), st.floats(0.0, 40.0))),
        min_size=10,
        max_size=150,
    )
)
async def test_no_conversation_ever_gets_more_than_teams_allows_in_any_window(
    requests: list[tuple[str, float]],
) -> None:
    """Whatever the pace, the times the limiter lets messages go keep every one of Teams' windows."""
    clock = Seconds()
    limiter = TeamsRateLimiter(tenant_limits=((1.0, 1000),), clock=clock, sleep=clock.sleep)
    granted: dict[str, list[float]] = {}
    for conversation, pause in requests:
        clock.now += pause
        await limiter.acquire(conversation, "luleå")
        granted.setdefault(conversation, []).append(clock.now)
    for times in granted.values():
        for seconds, count in CONVERSATION_LIMITS:
            for i, start in enumerate(times):
                assert bisect_left(times, start + seconds) - i <= count, (seconds, count)


def test_conversations_quiet_for_the_longest_window_are_let_go() -> None:
    """Every conversation written to is held for Teams' hour-long window, and no longer."""
    windows = SlidingWindows(CONVERSATION_LIMITS)
    for n in range(SlidingWindows.SWEEP_EVERY):
        windows.record(f"conversation-{n}", 0.0)
    windows.block("blocked", 10.0)
    assert windows.keys() == SlidingWindows.SWEEP_EVERY + 1
    later = 3600.0 + 1.0
    for _ in range(SlidingWindows.SWEEP_EVERY):
        windows.record("busy", later)
    assert windows.keys() == 1, "only the conversation written to within the hour"
    assert windows.wait_time("conversation-0", later) == 0.0


def test_retry_after_is_a_floor_and_backoff_doubles() -> None:
    policy = RetryPolicy()
    assert policy.delay(0, None, lambda: 1.0) == 2.0
    assert policy.delay(3, None, lambda: 1.0) == 16.0
    assert policy.delay(0, 30.0, lambda: 1.0) == 30.0
    assert policy.delay(20, None, lambda: 1.0) == policy.most
    assert 1.0 <= policy.delay(0, None, lambda: 0.0) < 2.0
