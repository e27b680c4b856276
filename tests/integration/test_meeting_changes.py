"""Changes of a meeting's attendees are logged, a row per change, and taken by the reconciler when it claims
the meeting: nothing written by a registration waits on the meeting's row, and no change is lost between
the claim and what the reconciler reads."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.meetings import MeetingMode
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork
from tests.integration.meeting_steps import (
    LATER,
    NOW,
    attendees_changed,
    claim,
    first_round,
    graph_meeting,
    settle_synced,
)


async def test_a_change_is_shown_until_taken_and_taken_once(engine: Database) -> None:
    session_id = await graph_meeting(engine)
    await first_round(engine)
    await attendees_changed(engine, session_id)
    await attendees_changed(engine, session_id)
    async with SqlUnitOfWork(engine) as uow:
        shown = await uow.meetings.get(session_id)
    assert shown is not None
    assert shown.attendees_version > shown.attendees_synced

    (claimed,) = await claim(engine)
    assert claimed.attendees_version > claimed.attendees_synced
    await settle_synced(engine, claimed)
    assert await claim(engine) == [], "both changes were taken with the first claim"


async def test_a_change_made_while_the_reconciler_works_stays_for_its_next_round(engine: Database) -> None:
    session_id = await graph_meeting(engine)
    await first_round(engine)
    await attendees_changed(engine, session_id)
    (claimed,) = await claim(engine)
    await attendees_changed(engine, session_id, LATER)  # after the reconciler read the registrations
    await settle_synced(engine, claimed)
    (again,) = await claim(engine, LATER + timedelta(seconds=1))
    assert again.attendees_version > again.attendees_synced


async def test_changes_made_while_organisers_keep_the_meeting_are_sent_when_graph_keeps_it_again(
    engine: Database,
) -> None:
    session_id = await graph_meeting(engine)
    await first_round(engine)
    async with SqlUnitOfWork(engine) as uow:
        await uow.meetings.follow(session_id, MeetingMode.MANUAL, NOW)
        await uow.commit()
    await attendees_changed(engine, session_id)
    assert await claim(engine) == []  # organisers keep it: nothing for Graph
    async with SqlUnitOfWork(engine) as uow:
        await uow.meetings.follow(session_id, MeetingMode.GRAPH, NOW)
        await uow.commit()
    (claimed,) = await claim(engine)
    assert claimed.attendees_version > claimed.attendees_synced
