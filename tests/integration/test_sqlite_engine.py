"""SQLite on the loop's thread: another process's write lock is waited for without blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.storage import sqlite as sqlite_module
from bot.storage.engine import create_engine
from bot.storage.sqlite import LoopSqlite


def _db(tmp_path: Path) -> tuple[LoopSqlite, Path]:
    path = tmp_path / "db.sqlite"
    database = create_engine(f"sqlite:///{path}")
    assert isinstance(database, LoopSqlite)
    return database, path


async def _create_table(database: LoopSqlite) -> None:
    async with database.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))


async def test_a_write_lock_held_elsewhere_is_waited_for_while_the_loop_runs(tmp_path: Path) -> None:
    database, path = _db(tmp_path)
    await _create_table(database)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def write() -> None:
        async with database.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))

    clock = asyncio.create_task(ticker())
    writer = asyncio.create_task(write())
    async with asyncio.timeout(10):  # however busy the machine: the loop ticks on while the writer waits
        while ticks < 10:  # noqa: ASYNC110 - counting the loop's own turns is the point
            await asyncio.sleep(0.005)
    assert not writer.done()
    other.execute("INSERT INTO t VALUES (0)")
    other.execute("COMMIT")
    await asyncio.wait_for(writer, 5)
    clock.cancel()
    async with database.connect() as conn:
        assert (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() == [0, 1]
    other.close()
    await database.dispose()


async def test_a_lock_never_released_ends_in_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_module, "BUSY_SECONDS", 0.1)
    database, path = _db(tmp_path)
    await _create_table(database)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError):
        async with database.connect() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
    other.execute("ROLLBACK")
    other.close()
    async with database.begin() as conn:  # the connection is usable again
        await conn.execute(text("INSERT INTO t VALUES (2)"))
    await database.dispose()


async def test_transactions_in_one_process_take_turns(tmp_path: Path) -> None:
    database, _ = _db(tmp_path)
    await _create_table(database)
    order: list[str] = []

    async def transaction(name: str) -> None:
        async with database.begin() as conn:
            order.append(f"{name} begins")
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            await asyncio.sleep(0.01)  # other coroutines run meanwhile, but not in this transaction
            order.append(f"{name} ends")

    await asyncio.gather(transaction("a"), transaction("b"))
    assert order in (["a begins", "a ends", "b begins", "b ends"], ["b begins", "b ends", "a begins", "a ends"])
    await database.dispose()


async def test_a_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    database, _ = _db(tmp_path)
    await _create_table(database)

    async def fail() -> None:
        async with database.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        await fail()
    async with database.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    await database.dispose()
