"""The series cache of the turns: a change made in this process is seen at once, another instance's within its ttl."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.storage.engine import Database
from bot.storage.repositories import SeriesCache
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.conftest import seed_demo


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _title(factory: SqlUnitOfWorkFactory) -> str:
    async with factory() as uow:
        (series,) = await uow.series.list_all()
        return series.title


async def _rename(factory: SqlUnitOfWorkFactory, title: str, *, commit: bool = True) -> None:
    async with factory() as uow:
        (series,) = await uow.series.list_all()
        await uow.series.update(replace(series, title=title))
        assert (await uow.series.list_all())[0].title == title  # the transaction sees its own change
        if commit:
            await uow.commit()


async def test_a_change_here_is_seen_at_once_and_one_elsewhere_within_the_ttl(engine: Database) -> None:
    await seed_demo(engine, datetime.now(UTC))
    ticks = Ticks()
    turns = SqlUnitOfWorkFactory(engine, SeriesCache(ttl=5.0, clock=ticks))
    other_instance = SqlUnitOfWorkFactory(engine)
    original = await _title(turns)

    await _rename(turns, "Renamed here")
    assert await _title(turns) == "Renamed here"

    await _rename(other_instance, "Renamed elsewhere")
    ticks.now += 4.9
    assert await _title(turns) == "Renamed here"  # still cached
    ticks.now += 0.2
    assert await _title(turns) == "Renamed elsewhere"

    await _rename(turns, original, commit=False)  # rolled back: nothing changes
    assert await _title(turns) == "Renamed elsewhere"


async def test_what_a_transaction_reads_before_another_commits_is_not_kept(engine: Database) -> None:
    await seed_demo(engine, datetime.now(UTC))
    cache = SeriesCache(ttl=60.0, clock=Ticks())
    turns = SqlUnitOfWorkFactory(engine, cache)
    async with turns() as writer:
        (series,) = await writer.series.list_all()
        await writer.series.update(replace(series, title="New title"))
        cache.put((series,))  # a concurrent reader caches the title from before the commit
        await writer.commit()
    assert await _title(turns) == "New title"
