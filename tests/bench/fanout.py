"""Benchmark: one message fanned out to many people through the outbox, against a fake Bot Connector
on 127.0.0.1 that enforces Teams' limits and answers some 429s at random.

    uv run python tests/bench/fanout.py [--people 1000] [--database-url URL] [--throttle 0.02]

Prints the time next to the theoretical minimum at the allowed rate, and messages lost and duplicated
(both must be 0). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import ClientSession, web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.clock import SystemClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.conversation import ConversationRef  # noqa: E402
from bot.domain.events import Message, OrganiserNote  # noqa: E402
from bot.domain.model import Language, PersonKey, Registration, RegistrationStatus, Series, Session, SessionStatus  # noqa: E402
from bot.i18n import Catalogs  # noqa: E402
from bot.jobs.delivery import DeliveryWorker  # noqa: E402
from bot.storage.engine import create_engine  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory  # noqa: E402
from bot.teams.limits import CONVERSATION_LIMITS, TENANT_LIMITS  # noqa: E402


class TeamsLikeConnector:
    """Answers 429 to anything over Teams' limits (per conversation and per app), and some at random."""

    def __init__(self, throttle: float) -> None:
        self.throttle = throttle
        self.received: Counter[str] = Counter()
        self.limit_429 = 0
        self.random_429 = 0
        self._events: dict[str, deque[float]] = defaultdict(deque)

    def _over(self, key: str, limits: tuple[tuple[float, int], ...], now: float) -> bool:
        events = self._events[key]
        while events and events[0] <= now - max(s for s, _ in limits):
            events.popleft()
        return any(sum(1 for e in events if e > now - seconds) >= count for seconds, count in limits)

    async def handle(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        now = time.monotonic()
        if self._over(conversation, CONVERSATION_LIMITS, now) or self._over("app", ((1.0, 50),), now):
            self.limit_429 += 1
            return web.json_response({}, status=429, headers={"Retry-After": "1"})
        if random.random() < self.throttle:
            self.random_429 += 1
            return web.json_response({}, status=429, headers={"Retry-After": "1"})
        await request.read()
        self._events[conversation].append(now)
        self._events["app"].append(now)
        self.received[conversation] += 1
        return web.json_response({"id": "x"}, status=201)


async def seed(url: str, people: int, service_url: str) -> int:
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with SqlUnitOfWork(engine) as uow:
            series = await uow.series.add(Series(0, "bench", "Bench", "Bench", "", "", Language.SV), now)
            start = now + timedelta(days=30)
            session = await uow.sessions.add(
                Session(0, series.id, 1, "Bench", start, start + timedelta(hours=2), start, SessionStatus.PUBLISHED),
                now,
            )
            messages: list[Message] = []
            for n in range(people):
                reach = ConversationRef(service_url, f"conversation-{n}", "bot")
                person = await uow.people.seen(PersonKey("tenant", f"aad-{n}"), f"Person {n}", "sv-SE", now, reach)
                await uow.registrations.save(
                    Registration(None, session.id, person.id, RegistrationStatus.REGISTERED, False, now, now)
                )
                messages.append(OrganiserNote(person.id, session.id, "bench", "Bench", "Välkomna!"))
            await uow.record(now, *messages)
            await uow.commit()
    finally:
        await engine.dispose()
    return people


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--throttle", type=float, default=0.02, help="share of sends answered 429 at random")
    args = parser.parse_args()

    connector = TeamsLikeConnector(args.throttle)
    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities", connector.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade, url)
        await seed(url, args.people, f"http://127.0.0.1:{port}")
        engine = create_engine(url)
        settings = Settings(_env_file=None, app_id="")
        async with ClientSession() as http:
            from bot.teams.connector import BotConnector

            worker = DeliveryWorker(
                SqlUnitOfWorkFactory(engine), BotConnector(settings, http), SystemClock(),
                Catalogs.load(), Language.SV,
            )  # fmt: skip
            started = time.perf_counter()
            while True:
                async with SqlUnitOfWork(engine) as uow:
                    counts = await uow.outbox.counts()
                if not any(counts.get(status, 0) for status in ("pending", "claimed", "sending")):
                    break
                if not await worker.run_once():
                    await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
        await engine.dispose()
    await runner.cleanup()

    rate = min(count / seconds for seconds, count in TENANT_LIMITS)
    minimum = args.people / rate
    delivered = sum(connector.received.values())
    duplicated = sum(n - 1 for n in connector.received.values() if n > 1)
    lost = args.people - len(connector.received)
    print(f"people                      {args.people}")
    print(f"database                    {'PostgreSQL' if 'postgres' in url else 'SQLite'}")
    print(f"time                        {elapsed:.1f} s")
    print(f"theoretical minimum         {minimum:.1f} s at our {rate:.0f}/s (Teams allows 50/s per app)")
    print(f"  at Teams' 50/s            {args.people / 50:.1f} s")
    print(f"delivered                   {delivered}")
    print(f"lost                        {lost}")
    print(f"duplicated                  {duplicated}")
    print(f"429 for exceeding limits    {connector.limit_429}")
    print(f"429 at random (retried)     {connector.random_429}")


if __name__ == "__main__":
    asyncio.run(main())
