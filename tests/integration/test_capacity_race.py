"""Two bot processes share one database; many people click Register for the last seats at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from bot.storage import tables
from bot.storage.engine import Database
from cards import verbs
from tests.conftest import seed_demo
from tests.integration.harness import Activities, numbered_user
from tests.processes import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_bots(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    ports = [free_port(), free_port()]
    processes = []
    logs = [tmp_path / f"bot-{port}.log" for port in ports]
    for port, log in zip(ports, logs, strict=True):
        env = {
            **os.environ,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "DATABASE_URL": database_url,
            "MicrosoftAppId": "",
            "LOG_LEVEL": "WARNING",
        }
        with log.open("wb") as sink:
            processes.append(subprocess.Popen([sys.executable, "app.py", "serve"], cwd=ROOT, env=env, stderr=sink))
    try:
        for port, process, log in zip(ports, processes, logs, strict=True):
            wait_for_port(port, process, log)
        yield [f"http://127.0.0.1:{port}/api/messages" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


@pytest.mark.parametrize(("people", "seats"), [(2, 1), (12, 3)])
async def test_last_seats_go_to_exactly_capacity_people(
    engine: Database, two_bots: list[str], http: ClientSession, people: int, seats: int
) -> None:
    await seed_demo(engine, datetime.now(UTC), capacity=seats)
    async with engine.connect() as conn:
        session_id = (
            await conn.execute(select(tables.sessions.c.id).where(tables.sessions.c.number == 1))
        ).scalar_one()
    activities = Activities("http://127.0.0.1:9")  # invokes answer in the response; nothing is sent there

    async def click(n: int) -> str:
        activity = activities.invoke(
            verbs.REGISTER,
            {"session": session_id, verbs.ORGANISATION: "Bodens kommun", verbs.ROLE: "Strateg"},
            numbered_user(n),
        )
        async with http.post(two_bots[n % 2], json=activity) as response:
            assert response.status == 200
            body = await response.json()
        return str(body["value"])

    answers = await asyncio.gather(*(click(n) for n in range(people)))
    assert sum("Du är anmäld" in a for a in answers) == seats
    assert sum("Du står på väntelistan" in a for a in answers) == people - seats

    async with engine.connect() as conn:
        rows = (await conn.execute(select(tables.registrations.c.status))).scalars().all()
        r = tables.registrations
        queue = (
            (await conn.execute(select(r.c.id).where(r.c.status == "waitlisted").order_by(r.c.waitlisted_at, r.c.id)))
            .scalars()
            .all()
        )
    assert sorted(rows) == sorted(["registered"] * seats + ["waitlisted"] * (people - seats))
    assert list(queue) == sorted(queue), "the waiting list is in the order places were decided"
