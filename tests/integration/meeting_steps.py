"""The meeting reconciler's storage steps, one transaction each, for tests that drive them by hand."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot.domain.meetings import Meeting, MeetingMode
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork
from tests.conftest import seed_demo
from tests.integration.harness import session_ids

NOW = datetime.now(UTC)
LATER = NOW + timedelta(seconds=5)  # when the reconciler looks


async def graph_meeting(engine: Database) -> int:
    await seed_demo(engine, NOW)
    session_id = (await session_ids(engine))[1]
    async with SqlUnitOfWork(engine) as uow:
        await uow.meetings.follow(session_id, MeetingMode.GRAPH, NOW)
        await uow.commit()
    return session_id


async def attendees_changed(engine: Database, session_id: int, at: datetime = NOW) -> None:
    async with SqlUnitOfWork(engine) as uow:
        await uow.meetings.attendees_changed(session_id, at)
        await uow.commit()


async def claim(engine: Database, at: datetime = LATER) -> list[Meeting]:
    async with SqlUnitOfWork(engine) as uow:
        claimed = await uow.meetings.claim("reconciler", at, at + timedelta(minutes=1), 10)
        await uow.commit()
    return claimed


async def settle_synced(engine: Database, meeting: Meeting) -> None:
    synced = dataclasses.replace(meeting, attendees_synced=meeting.attendees_version)
    async with SqlUnitOfWork(engine) as uow:
        assert await uow.meetings.settle(synced, "reconciler", LATER, None)
        await uow.commit()


async def first_round(engine: Database) -> None:
    """The new meetings' first round: each claimed and settled as synced."""
    for meeting in await claim(engine):
        await settle_synced(engine, meeting)
