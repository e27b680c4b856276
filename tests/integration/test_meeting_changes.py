"""Changes of a meeting's attendees are logged, a row per change, and taken by the reconciler when it claims
the meeting: nothing written by a registration waits on the meeting's row, and no change is lost between
the claim and what the reconciler reads."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.meetings import Meeting, MeetingMode
from bot.storage.uow import SqlUnitOfWork
from tests.conftest import seed_demo
from tests.integration.harness import session_ids

NOW = datetime.now(UTC)
LATER = NOW + timedelta(seconds=5)


async def _graph_meeting(engine: AsyncEngine) -> int:
    await seed_demo(engine, NOW)
    session_id = (await session_ids(engine))[1]
    async with SqlUnitOfWork(engine) as uow:
        await uow.meetings.follow(session_id, MeetingMode.GRAPH, NOW)
        await uow.commit()
    return session_id


async def _changed(engine: AsyncEngine, session_id: int, at: datetime = NOW) -> None:
    async with SqlUnitOfWork(engine) as uow:
        await uow.meetings.attendees_changed(session_id, at)
        await uow.commit()


async def _claim(engine: AsyncEngine, at: datetime = LATER) -> list[Meeting]:
    async with SqlUnitOfWork(engine) as uow:
        claimed = await uow.meetings.claim("reconciler", at, at + timedelta(minutes=1), 10)
        await uow.commit()
    return claimed


async def _settle_synced(engine: AsyncEngine, meeting: Meeting) -> None:
    synced = dataclasses.replace(meeting, attendees_synced=meeting.attendees_version)
    async with SqlUnitOfWork(engine) as uow:
        assert await uow.meetings.settle(synced, "reconciler", LATER, None)
        await uow.commit()


async def _first_round(engine: AsyncEngine) -> None:
    """The new meetings' first round: each claimed and settled as synced."""
    for meeting in await _claim(engine):
        await _settle_synced(engine, meeting)


async def test_a_change_is_shown_until_taken_and_taken_once(engine: AsyncEngine) -> None:
    session_id = await _graph_meeting(engine)
    await _first_round(engine)
    await _changed(engine, session_id)
    await _changed(engine, session_id)
    async with SqlUnitOfWork(engine) as uow:
        shown = await uow.meetings.get(session_id)
    assert shown is not None
    assert shown.attendees_version > shown.attendees_synced

    (claimed,) = await _claim(engine)
    assert claimed.attendees_version > claimed.attendees_synced
    await _settle_synced(engine, claimed)
    assert await _claim(engine) == [], "both changes were taken with the first claim"


async def test_a_change_made_while_the_reconciler_works_stays_for_its_next_round(engine: AsyncEngine) -> None:
    session_id = await _graph_meeting(engine)
    await _first_round(engine)
    await _changed(engine, session_id)
    (claimed,) = await _claim(engine)
    await _changed(engine, session_id, LATER)  # after the reconciler read the registrations
    await _settle_synced(engine, claimed)
    (again,) = await _claim(engine, LATER + timedelta(seconds=1))
    assert again.attendees_version > again.attendees_synced


async def test_changes_made_while_organisers_keep_the_meeting_are_sent_when_graph_keeps_it_again(
    engine: AsyncEngine,
) -> None:
    session_id = await _graph_meeting(engine)
    await _first_round(engine)
    async with SqlUnitOfWork(engine) as uow:
        await uow.meetings.follow(session_id, MeetingMode.MANUAL, NOW)
        await uow.commit()
    await _changed(engine, session_id)
    assert await _claim(engine) == []  # organisers keep it: nothing for Graph
    async with SqlUnitOfWork(engine) as uow:
        await uow.meetings.follow(session_id, MeetingMode.GRAPH, NOW)
        await uow.commit()
    (claimed,) = await _claim(engine)
    assert claimed.attendees_version > claimed.attendees_synced
