"""Teams' sending limits, kept on our side so that Teams never has to refuse us."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence

# Per bot per conversation (Teams' documented limits), and per app per tenant with a margin below 50/s.
CONVERSATION_LIMITS: tuple[tuple[float, int], ...] = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
TENANT_LIMITS: tuple[tuple[float, int], ...] = ((1.0, 40),)


class SlidingWindows:
    """At most `count` events in any `seconds`-long window, for every (seconds, count) pair, per key.

    Each window is held `margin` seconds longer than Teams' own: Teams counts on arrival, and network
    jitter between our send and its arrival may bunch messages together.
    """

    def __init__(self, limits: Sequence[tuple[float, int]], margin: float = 0.25) -> None:
        self._limits = tuple(sorted((seconds + margin, count) for seconds, count in limits))
        self._longest = max(seconds for seconds, _ in self._limits)
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._blocked_until: dict[str, float] = {}

    def wait_time(self, key: str, now: float) -> float:
        events = self._events[key]
        while events and events[0] <= now - self._longest:
            events.popleft()
        wait = max(0.0, self._blocked_until.get(key, 0.0) - now)
        for seconds, count in self._limits:
            in_window = [e for e in events if e > now - seconds] if len(events) >= count else ()
            if len(in_window) >= count:
                wait = max(wait, in_window[-count] + seconds - now)
        return wait

    def record(self, key: str, now: float) -> None:
        self._events[key].append(now)

    def block(self, key: str, until: float) -> None:
        """Teams said 429 with Retry-After: nothing more to this key before `until`."""
        self._blocked_until[key] = max(until, self._blocked_until.get(key, 0.0))


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

    async def acquire(self, conversation: str) -> None:
        """Waits until one more message to `conversation` is within every limit, then counts it."""
        while True:
            now = self._clock()
            wait = max(self._conversations.wait_time(conversation, now), self._tenant.wait_time("tenant", now))
            if wait <= 0:
                # No await between the check and the record: concurrent senders cannot both take the last slot.
                self._conversations.record(conversation, now)
                self._tenant.record("tenant", now)
                return
            await self._sleep(wait)

    def back_off(self, conversation: str, seconds: float) -> None:
        self._conversations.block(conversation, self._clock() + seconds)
