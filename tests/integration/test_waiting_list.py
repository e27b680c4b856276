"""Places on the waiting list, counted in the database: in the order places were decided, ties by id."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.model import PersonKey, RegistrationStatus
from bot.services import participants as svc
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork
from tests.conftest import NOW, FakeClock, seed_demo


async def test_positions_follow_the_queue(engine: Database) -> None:
    await seed_demo(engine, NOW, capacity=1)
    clock = FakeClock(NOW)
    async with SqlUnitOfWork(engine) as uow:
        session = await uow.sessions.by_number(1, 1)
        assert session is not None
    for n, step in enumerate([1, 1, 0, 1]):  # the third and second decided at the same moment
        clock.current += timedelta(seconds=step)
        async with SqlUnitOfWork(engine) as uow:
            person = await uow.people.seen(PersonKey("t", f"user-{n}"), f"User {n}", "sv-SE", clock.now())
            command = svc.Register(person.id, session.id, True, "Luleå kommun", "Strateg", None)
            await svc.register(command, person, uow, clock.now(), clock)
            await uow.commit()
    async with SqlUnitOfWork(engine) as uow:
        queue = await uow.registrations.waitlist(session.id)
        assert [r.status for r in queue] == [RegistrationStatus.WAITLISTED] * 3
        assert [await uow.registrations.waitlist_position(r) for r in queue] == [1, 2, 3]
        people = [r.person_id for r in queue]
        assert people == sorted(people)  # the tie went by id, which is arrival order here
