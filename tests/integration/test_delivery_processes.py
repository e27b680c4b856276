"""A bot process killed with SIGKILL in the middle of a fan-out, and started again: the messages it had
claimed but never tried are sent by the next one; only those whose request was in flight are lost (and
counted), none is sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.conversation import ConversationRef
from bot.domain.events import OrganiserNote
from bot.domain.model import PersonKey, Registration, RegistrationStatus
from bot.services.ports import INTERRUPTED
from bot.storage import tables
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork
from tests.conftest import seed_demo
from tests.integration.harness import FakeConnector, session_ids
from tests.processes import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 300
CONCURRENCY = 16  # the delivery worker's default: requests in flight at once
WAIT = 120.0


@pytest.fixture
async def start_bot(database_url: str, tmp_path: Path) -> AsyncIterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        port = free_port()
        log = tmp_path / f"bot-{port}.log"
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": database_url,
               "MicrosoftAppId": "", "LOG_LEVEL": "WARNING", "BACKGROUND_JOBS": "true",
               "OUTBOX_LEASE_SECONDS": "2"}  # fmt: skip
        with log.open("wb") as sink:
            process = subprocess.Popen([sys.executable, "app.py", "serve"], cwd=ROOT, env=env, stderr=sink)
        started.append(process)
        wait_for_port(port, process, log)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def _fan_out(engine: Database, service_url: str) -> None:
    """Everyone registered for a session, and an organiser's message to each of them queued."""
    now = datetime.now(UTC)
    await seed_demo(engine, now)
    session_id = (await session_ids(engine))[2]
    async with SqlUnitOfWork(engine) as uow:
        for n in range(PEOPLE):
            reach = ConversationRef(service_url, f"chat-{n}", "bot")
            person = await uow.people.seen(PersonKey("tenant", f"aad-{n}"), f"Person {n}", "sv-SE", now, reach)
            registration = Registration(None, session_id, person.id, RegistrationStatus.REGISTERED, False, now, now)
            await uow.registrations.save(registration)
            await uow.record(now, OrganiserNote(person.id, session_id, "crash", "Arrangören", "Välkomna!"))
        await uow.commit()


async def _until(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():  # noqa: ASYNC110 - the state is in another process and a fake server
            await asyncio.sleep(0.05)
    assert condition(), what


async def _outbox(engine: Database) -> dict[str, int]:
    o = tables.outbox
    async with engine.connect() as conn:
        rows = await conn.execute(select(o.c.status, func.count()).group_by(o.c.status))
        return {status: int(n) for status, n in map(tuple, rows)}


async def test_sigkill_mid_fan_out_loses_at_most_the_requests_in_flight(
    engine: Database, connector: FakeConnector, start_bot: Callable[[], subprocess.Popen[bytes]]
) -> None:
    await _fan_out(engine, connector.url)
    connector.hold_after = 100  # then Teams stops answering: requests pile up in flight
    first = start_bot()
    await _until(lambda: len(connector.arrived) >= 100 + CONCURRENCY, "the worker to fill its requests in flight")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    in_flight = len(connector.arrived) - 100
    connector.release.set()  # Teams answers the dead process; those messages may have arrived
    connector.hold_after = None

    start_bot()
    async with asyncio.timeout(WAIT):
        while True:
            counts = await _outbox(engine)
            if not any(counts.get(s, 0) for s in ("pending", "claimed", "sending")):
                break
            await asyncio.sleep(0.1)

    arrived = Counter(connector.arrived)
    assert max(arrived.values()) == 1, "no message went twice"
    assert len(arrived) == PEOPLE, "every message was tried: those never tried were sent after the restart"
    assert counts == {"sent": PEOPLE - in_flight, "failed": in_flight}
    assert in_flight <= CONCURRENCY
    o = tables.outbox
    async with engine.connect() as conn:
        errors = (await conn.execute(select(o.c.last_error).where(o.c.status == "failed"))).scalars().all()
    assert set(errors) == {INTERRUPTED}
    print(f"\nSIGKILL mid fan-out: {PEOPLE} messages, {in_flight} in flight when killed and lost, none twice")
