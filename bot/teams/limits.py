"""Teams' limits, kept on our side so that Teams never has to refuse us, and the one retry policy for
every request to Teams (messages, replies, member look-ups).

Teams counts every request of an app against 50 a second per tenant, roster and member look-ups included,
and messages per conversation besides: an association's 15 tenants each have their own 50. One limiter per
process is shared by the delivery worker, the replies and the member look-ups.
"""

from __future__ import annotations

import asyncio
import random
import time
from bisect import bisect_right
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

# Per bot per conversation (Teams' documented limits), and per app per tenant with a margin below 50/s.
CONVERSATION_LIMITS: tuple[tuple[float, int], ...] = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
TENANT_LIMITS: tuple[tuple[float, int], ...] = ((1.0, 40),)


@dataclass(frozen=True)
class RetryPolicy:
    """Which answers are worth trying again, and how long to wait: Retry-After when Teams gives it (a
    floor, never shortened), otherwise exponential backoff with full jitter, which spreads a burst."""

    retryable: frozenset[int] = frozenset({0, 408, 412, 429, 500, 502, 503, 504})
    unreachable: frozenset[int] = frozenset({403, 404})  # the person removed or blocked the app
    base: float = 2.0
    most: float = 15 * 60.0

    def delay(self, attempts: int, retry_after: float | None, jitter: Callable[[], float] = random.random) -> float:
        exponential = min(self.most, self.base * 2**attempts)
        delay: float = exponential * (0.5 + 0.5 * jitter())
        return max(delay, retry_after or 0.0)


TEAMS_RETRIES = RetryPolicy()


class SlidingWindows:
    """At most `count` events in any `seconds`-long window, for every (seconds, count) pair, per key.

    Each window is held `margin` seconds longer than Teams' own: Teams counts on arrival, and network
    jitter between our send and its arrival may bunch messages together.

    Every conversation written to in the last hour is held, most of them with one or two events: a plain
    list each (an eighth of a deque's size), in time order so that windows are found by bisection, and keys
    with nothing left in the longest window are dropped every SWEEP_EVERY events.
    """

    SWEEP_EVERY = 1024

    def __init__(self, limits: Sequence[tuple[float, int]], margin: float = 0.25) -> None:
        self._limits = tuple(sorted((seconds + margin, count) for seconds, count in limits))
        self._longest = max(seconds for seconds, _ in self._limits)
        self._events: dict[str, list[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._recorded = 0

    def wait_time(self, key: str, now: float) -> float:
        wait = max(0.0, self._blocked_until.get(key, 0.0) - now)
        events = self._events.get(key)
        if not events:
            return wait
        del events[: bisect_right(events, now - self._longest)]
        for seconds, count in self._limits:
            in_window = len(events) - bisect_right(events, now - seconds)
            if in_window >= count:
                wait = max(wait, events[len(events) - count] + seconds - now)
        return wait

    def record(self, key: str, now: float) -> None:
        events = self._events.get(key)
        if events is None:
            self._events[key] = [now]
        else:
            events.append(now)  # the clock is monotonic: the list stays in time order
        self._recorded += 1
        if self._recorded % self.SWEEP_EVERY == 0:
            self._sweep(now)

    def block(self, key: str, until: float) -> None:
        """Teams said 429 with Retry-After: nothing more to this key before `until`."""
        self._blocked_until[key] = max(until, self._blocked_until.get(key, 0.0))

    def keys(self) -> int:
        """How many keys are held."""
        return len(self._events.keys() | self._blocked_until.keys())

    def _sweep(self, now: float) -> None:
        oldest = now - self._longest
        self._events = {key: events for key, events in self._events.items() if events and events[-1] > oldest}
        self._blocked_until = {key: until for key, until in self._blocked_until.items() if until > now}


class TeamsRateLimiter:
    def __init__(
        self,
        conversation_limits: Sequence[tuple[float, int]] = CONVERSATION_LIMITS,
        tenant_limits: Sequence[tuple[float, int]] = TENANT_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._conversations = SlidingWindows(conversation_limits)
        self._tenant = SlidingWindows(tenant_limits)
        self._clock = clock
        self._sleep = sleep

    async def acquire(self, conversation: str | None, tenant: str = "") -> None:
        """Waits until one more request is within every limit, then counts it: a message in `conversation`,
        or (None) a request that is no message, such as a member look-up, which counts for the tenant only."""
        while True:
            now = self._clock()
            wait = self._tenant.wait_time(tenant, now)
            if conversation is not None:
                wait = max(wait, self._conversations.wait_time(conversation, now))
            if wait <= 0:
                # No await between the check and the record: concurrent senders cannot both take the last slot.
                if conversation is not None:
                    self._conversations.record(conversation, now)
                self._tenant.record(tenant, now)
                return
            await self._sleep(wait)

    def back_off(self, conversation: str | None, seconds: float, tenant: str = "") -> None:
        """Teams said 429: nothing more to `conversation` (or, None, to the tenant) for `seconds`."""
        until = self._clock() + seconds
        if conversation is None:
            self._tenant.block(tenant, until)
        else:
            self._conversations.block(conversation, until)

    def now(self) -> float:
        return self._clock()

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)
