"""The loop of a background job that works in batches and can be woken when new work is committed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_batches(
    batch: Callable[[], Awaitable[int]], wake: asyncio.Event, stop: asyncio.Event, idle_poll: float, name: str
) -> None:
    """Runs `batch` until `stop`; after a batch that found nothing, waits for `wake`, `stop` or `idle_poll`
    seconds. A failing batch is logged and tried again at the next poll."""
    while not stop.is_set():
        try:
            handled = await batch()
        except Exception:
            log.exception("%s failed; retrying shortly", name)
            handled = 0
        if handled == 0:
            wake.clear()
            waits = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
            try:
                await asyncio.wait(waits, timeout=idle_poll, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waits:
                    task.cancel()
