"""Service tests run on the real SQL unit of work over an in-process SQLite database: no fake to keep in
step with the ports, and every repository the services use is the one production uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime

import pytest

from bot import datafile
from bot.services.series_admin import import_series
from bot.storage.engine import create_engine
from bot.storage.sqlite import LoopSqlite
from bot.storage.tables import metadata
from bot.storage.uow import SqlUnitOfWork
from tests.conftest import DEMO_DATA


@pytest.fixture
async def uow() -> AsyncIterator[SqlUnitOfWork]:
    """One transaction, never committed: the test sees what the services did within it."""
    database = create_engine("sqlite:///:memory:")
    assert isinstance(database, LoopSqlite)
    async with database.connect() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.commit()
    async with SqlUnitOfWork(database) as unit:
        yield unit
    await database.dispose()


async def import_demo(uow: SqlUnitOfWork, now: datetime, capacity: int | None = None) -> None:
    """The demo series moved ahead of `now`, its first session (id 1) limited to `capacity`."""
    series, sessions = datafile.load(DEMO_DATA)
    sessions = datafile.moved_to_future(sessions, now)
    sessions[0] = replace(sessions[0], capacity=capacity)
    await import_series(series, sessions, uow, now)
