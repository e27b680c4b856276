"""What a registration waits for on PostgreSQL (SQLite serialises every writer): seats are counted one
decision at a time, while registrations for a session without a limit go through side by side and a change
to the session still waits for them; the meeting's "attendees changed" makes no one wait."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bot.conversation import Actor
from bot.domain.model import Person, PersonKey, RegistrationStatus
from bot.services import participants as svc
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork
from tests.conftest import clean_postgres, seed_demo
from tests.integration.harness import session_ids
from tests.integration.meeting_steps import attendees_changed, claim, first_round, graph_meeting

NOW = datetime.now(UTC)
WAIT = 5.0  # far longer than a registration takes: only a lock held by the other side makes us wait


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return clean_postgres(postgres_url)


def _actor(n: int) -> Actor:
    return Actor(PersonKey("tenant", f"aad-{n}"), f"Person {n}", "sv-SE")


async def _arrive(uow: SqlUnitOfWork, n: int, session_id: int) -> Person:
    _, person = await svc.arrive(f"activity-{n}", _actor(n), uow, NOW, lock_session=session_id)
    return person


async def _register(engine: Database, n: int, session_id: int) -> RegistrationStatus:
    async with SqlUnitOfWork(engine) as uow:
        person = await _arrive(uow, n, session_id)
        cmd = svc.Register(person.id, session_id, False, "Bodens kommun", "Strateg")
        result = await svc.register(cmd, person, uow, NOW)
        await uow.commit()
        assert isinstance(result, svc.Registered)
        assert result.standing.registration is not None
        return result.standing.registration.status


async def _waiting_for_locks(engine: Database, count: int) -> None:
    """Returns once `count` other transactions wait for a lock PostgreSQL has not granted them: what the
    test is about is seen in the database, not guessed from a pause."""
    async with asyncio.timeout(WAIT):
        while True:
            async with engine.connect() as conn:
                query = text("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted")
                waiting = (await conn.execute(query)).scalar_one()
                await conn.rollback()
            if waiting >= count:
                return
            await asyncio.sleep(0.02)


async def _set_capacity(engine: Database, session_id: int, capacity: int | None) -> None:
    async with SqlUnitOfWork(engine) as uow:
        session = await uow.sessions.get(session_id, lock=True)
        assert session is not None
        await uow.sessions.update(replace(session, capacity=capacity), NOW)
        await uow.commit()


async def test_registrations_without_a_limit_do_not_wait_for_each_other(engine: Database) -> None:
    await seed_demo(engine, NOW)
    session_id = (await session_ids(engine))[1]
    async with SqlUnitOfWork(engine) as first:
        await _arrive(first, 1, session_id)  # holds its lock on the session until the end of the block
        assert await asyncio.wait_for(_register(engine, 2, session_id), WAIT) is RegistrationStatus.REGISTERED


async def test_a_limit_set_waits_for_registrations_in_flight(engine: Database) -> None:
    await seed_demo(engine, NOW)
    session_id = (await session_ids(engine))[1]
    async with SqlUnitOfWork(engine) as first:
        await _arrive(first, 1, session_id)
        change = asyncio.create_task(_set_capacity(engine, session_id, 1))
        await _waiting_for_locks(engine, 1)
        assert not change.done(), "the limit was set while a registration was deciding without one"
    await asyncio.wait_for(change, WAIT)


async def test_seats_are_counted_one_decision_at_a_time(engine: Database) -> None:
    await seed_demo(engine, NOW, capacity=1)
    session_id = (await session_ids(engine))[1]
    async with SqlUnitOfWork(engine) as first:
        await _arrive(first, 1, session_id)
        second = asyncio.create_task(_register(engine, 2, session_id))
        await _waiting_for_locks(engine, 1)
        assert not second.done(), "a registration for a limited session went ahead of one deciding"
    assert await asyncio.wait_for(second, WAIT) is RegistrationStatus.REGISTERED


async def test_registrations_that_waited_for_a_limit_being_set_count_the_seats(engine: Database) -> None:
    await seed_demo(engine, NOW)
    session_id = (await session_ids(engine))[1]
    assert await _register(engine, 1, session_id) is RegistrationStatus.REGISTERED
    async with SqlUnitOfWork(engine) as organiser:
        session = await organiser.sessions.get(session_id, lock=True)
        assert session is not None
        late = asyncio.gather(_register(engine, 2, session_id), _register(engine, 3, session_id))
        await _waiting_for_locks(engine, 2)
        assert not late.done()
        await organiser.sessions.update(replace(session, capacity=2), NOW)
        await organiser.commit()
    # They waited without a limit and go on with one: one seat is left, for one of them.
    statuses = await asyncio.wait_for(late, WAIT)
    assert sorted(statuses) == [RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED]


async def test_a_change_of_attendees_not_yet_committed_is_left_for_the_next_claim(engine: Database) -> None:
    session_id = await graph_meeting(engine)
    await first_round(engine)
    async with SqlUnitOfWork(engine) as registering:
        await registering.meetings.attendees_changed(session_id, NOW)
        await registering.sessions.get(session_id)  # sends the held write; the transaction stays open
        assert await claim(engine) == []  # what the reconciler would read does not have it yet
        await registering.commit()
    (claimed,) = await claim(engine)
    assert claimed.attendees_version > claimed.attendees_synced


async def test_changes_of_attendees_do_not_wait_for_each_other(engine: Database) -> None:
    session_id = await graph_meeting(engine)
    async with SqlUnitOfWork(engine) as first:
        await first.meetings.attendees_changed(session_id, NOW)
        await first.sessions.get(session_id)
        await asyncio.wait_for(attendees_changed(engine, session_id), WAIT)
