"""Bot processes with their reconcilers on, against the fake Graph: one killed in the middle of a sync
and started again, and two instances sharing PostgreSQL. Invitees end equal to the registrations."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from bot.domain.meetings import MeetingMode
from bot.domain.model import SessionStatus
from bot.storage import tables
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork
from cards import verbs
from tests.conftest import seed_demo
from tests.fakegraph import FakeGraph
from tests.integration.harness import Activities, FakeConnector, numbered_user, session_ids
from tests.processes import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
MAILBOX = "larprojekt@example.org"


@pytest.fixture
async def start_bot(
    database_url: str, graph: FakeGraph, tmp_path: Path
) -> AsyncIterator[Callable[..., tuple[str, Any]]]:
    """Starts a bot process with its background jobs; returns its messages URL and the process."""
    started: list[subprocess.Popen[bytes]] = []

    def start(lease_seconds: int = 30) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        log = tmp_path / f"bot-{port}.log"
        env = {**os.environ, **graph.environment(MAILBOX), "PORT": str(port), "HOST": "127.0.0.1",
               "DATABASE_URL": database_url, "MicrosoftAppId": "", "LOG_LEVEL": "WARNING",
               "GRAPH_LEASE_SECONDS": str(lease_seconds), "BACKGROUND_JOBS": "true"}  # fmt: skip
        with log.open("wb") as sink:
            process = subprocess.Popen([sys.executable, "app.py", "serve"], cwd=ROOT, env=env, stderr=sink)
        started.append(process)
        wait_for_port(port, process, log)
        return f"http://127.0.0.1:{port}/api/messages", process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    # The fakes live in this event loop: keep it turning while the bots shut down.
    await _wait(lambda: all(p.poll() is not None for p in started), "the bots to stop", seconds=20)


async def _wait(condition: Callable[[], Any], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition() if asyncio.iscoroutinefunction(condition) else condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def _registered(engine: Database) -> dict[int, list[str]]:
    """Registered people's e-mail addresses per session number (titles repeat: "Tema väljs …")."""
    r, p, s = tables.registrations, tables.people, tables.sessions
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(s.c.number, p.c.email)
            .join(r, r.c.session_id == s.c.id)
            .join(p, p.c.id == r.c.person_id)
            .where(r.c.status == "registered")
        )
        result: dict[int, list[str]] = {}
        for number, email in rows:
            result.setdefault(number, []).append(email)
    return {number: sorted(emails) for number, emails in result.items()}


def _invited(graph: FakeGraph) -> dict[int, list[str]]:
    result = {}
    for event in graph.events.values():
        if event["attendees"]:
            number = int(event["subject"].split("Lärträff ", 1)[1].split(":", 1)[0])  # "…, Lärträff 3: …"
            result[number] = graph.invitees(event)
    return result


async def _click(http: ClientSession, url: str, activity: dict[str, Any]) -> None:
    async with http.post(url, json=activity) as response:
        assert response.status == 200, await response.text()


def _register(activities: Activities, session_id: int, n: int) -> dict[str, Any]:
    data = {"session": session_id, verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Rektor"}
    return activities.invoke(verbs.REGISTER, data, numbered_user(n))


async def test_a_bot_killed_mid_sync_converges_after_restart(
    engine: Database, graph: FakeGraph, connector: FakeConnector, http: ClientSession, start_bot: Any
) -> None:
    await seed_demo(engine, datetime.now(UTC))
    ids = await session_ids(engine)
    activities = Activities(connector.url)
    graph.hold_patches = asyncio.Event()  # Graph takes its time: the PATCH hangs until we let it go
    url, first = start_bot(lease_seconds=3)
    await _wait(lambda: len(graph.events) == 2, "the published sessions' meetings")
    for n in range(5):
        await _click(http, url, _register(activities, ids[2], n))
    await _wait(lambda: graph.count("PATCH") >= 1, "a PATCH in flight")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    graph.hold_patches.set()
    graph.hold_patches = None

    url, _ = start_bot(lease_seconds=3)
    for n in range(5, 8):
        await _click(http, url, _register(activities, ids[2], n))

    async def converged() -> bool:
        registered = await _registered(engine)
        return bool(registered) and _invited(graph) == registered

    await _wait(converged, "the invitees to equal the registrations")
    assert len(next(iter(_invited(graph).values()))) == 8
    assert graph.count("POST", "events") == 2, "no meeting created twice"
    print(f"\nkill and restart: Graph requests {graph.count('POST')} POST, {graph.count('PATCH')} PATCH, "
          f"{graph.count('GET')} GET")  # fmt: skip


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_instances_on_postgresql_share_the_work_within_four_requests(
    engine: Database, graph: FakeGraph, connector: FakeConnector, http: ClientSession, start_bot: Any
) -> None:
    await seed_demo(engine, datetime.now(UTC))
    now = datetime.now(UTC)
    async with SqlUnitOfWork(engine) as uow:  # all eight sessions published: eight meetings at once
        for session in await uow.sessions.list_for_series((await uow.series.list_all())[0].id):
            if session.status is SessionStatus.DRAFT:
                await uow.sessions.update(replace(session, status=SessionStatus.PUBLISHED), now)
                await uow.meetings.follow(session.id, MeetingMode.GRAPH, now)
        await uow.commit()
    ids = await session_ids(engine)
    graph.latency = 0.2
    urls = [start_bot()[0], start_bot()[0]]
    activities = Activities(connector.url)
    await _wait(lambda: len(graph.events) == 8, "eight meetings", seconds=90)

    clicks = [(urls[n % 2], _register(activities, ids[2 + n % 7], n)) for n in range(140)]
    gate = asyncio.Semaphore(16)

    async def send(url: str, activity: dict[str, Any]) -> None:
        async with gate:
            await _click(http, url, activity)

    await asyncio.gather(*(send(u, a) for u, a in clicks))
    withdrawals = [(urls[n % 2], activities.invoke(verbs.WITHDRAW, {"session": ids[2 + n % 7]}, numbered_user(n)))
                   for n in range(0, 140, 5)]  # fmt: skip
    await asyncio.gather(*(send(u, a) for u, a in withdrawals))

    async def converged() -> bool:
        registered = await _registered(engine)
        return len(registered) == 7 and _invited(graph) == registered

    await _wait(converged, "the invitees to equal the registrations", seconds=120)
    assert sum(map(len, (await _registered(engine)).values())) == 140 - 28
    assert graph.max_in_flight[MAILBOX] <= 4, "at most four requests at a time for the mailbox"
    assert graph.max_in_flight[MAILBOX] >= 3, "the instances did work in parallel"
    assert graph.count("POST", "events") == 8
    print(f"\ntwo instances: Graph requests {graph.count('POST')} POST, {graph.count('PATCH')} PATCH, "
          f"{graph.count('GET')} GET for 140 registrations and 28 withdrawals in 7 sessions; "
          f"at most {graph.max_in_flight[MAILBOX]} in flight")  # fmt: skip
