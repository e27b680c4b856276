"""A turn that only reads (the overview, a session's details, help): its arrival stands on its own, and a
write after it is refused rather than made outside a transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import PersonKey
from bot.services import participants as svc
from bot.services.ports import OutgoingMessage
from bot.storage import tables as t
from bot.storage.uow import SqlUnitOfWork
from tests.conftest import seed_demo
from tests.integration.harness import session_ids

NOW = datetime.now(UTC)


async def test_a_turn_that_only_reads_may_not_write(engine: AsyncEngine) -> None:
    await seed_demo(engine, NOW)
    session_id = (await session_ids(engine))[1]
    async with SqlUnitOfWork(engine, reads_only=True) as uow:
        first, person = await svc.arrive(
            "activity-1", svc.Actor(PersonKey("tenant", "aad-1"), "Ada", "sv-SE"), uow, NOW
        )
        assert first
        assert (await svc.overview(person, uow, NOW)).standings  # reads as any turn does
        with pytest.raises(RuntimeError):
            await uow.people.save(replace(person, name="Someone else"), NOW)
        with pytest.raises(RuntimeError):
            await uow.outbox.enqueue_later([OutgoingMessage("key", "confirmation", person.id, session_id)], NOW)
        with pytest.raises(RuntimeError):
            await uow.meetings.details_changed(session_id, NOW)  # a write through SQLAlchemy
        await uow.commit()
    async with engine.connect() as conn:
        assert (await conn.execute(select(t.people.c.name))).scalars().all() == ["Ada"]
        assert (await conn.execute(select(func.count()).select_from(t.outbox))).scalar_one() == 0
        assert (await conn.execute(select(func.count()).select_from(t.processed_activities))).scalar_one() == 1
