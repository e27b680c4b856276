"""SQLite, run on the event loop's own thread: WAL, one writer at a time."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Self, TypeVar, overload

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import CursorResult, Dialect, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable

from bot.storage.engine import JSON_CODEC, Begins, Opens
from bot.storage.prepared import DirectResult, Plans, Prepared

P = ParamSpec("P")
T = TypeVar("T")

BUSY_SECONDS = 30.0  # how long a transaction waits for another process's write lock


def _driver_error(sql: str, error: sqlite3.Error) -> Exception:
    """sqlite3's error as SQLAlchemy raises it (IntegrityError, OperationalError, …), without parameters."""
    return DBAPIError.instance(sql, None, error, sqlite3.Error, hide_parameters=True)


class LoopSqlite(Begins["LoopSqliteConnection"]):
    """SQLite run on the event loop's thread, one connection, one transaction at a time.

    A statement on a local SQLite file takes microseconds; handing each to a worker thread (aiosqlite)
    cost several thread hops per statement, more than the statement itself. Nothing here can block the
    loop for long: transactions are serialised by an asyncio lock, and a write lock held by another
    process is waited for with asyncio.sleep, not SQLite's busy handler.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self._engine = create_sync_engine(
            url, echo=echo, hide_parameters=True, poolclass=StaticPool,
            connect_args={"check_same_thread": False, "timeout": BUSY_SECONDS}, **JSON_CODEC,
        )  # fmt: skip
        self._lock = asyncio.Lock()
        event.listen(self._engine, "connect", _on_connect)

        self._plans = Plans()

    def connect(self) -> LoopSqliteConnection:
        return LoopSqliteConnection(self._engine, self._lock, self._plans)

    async def dispose(self) -> None:
        async with self._lock:
            self._engine.dispose()


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN until the first write, which lets two
    # processes read the same free seat. We issue BEGIN IMMEDIATE ourselves: one writer at a time.
    dbapi_connection.isolation_level = None
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=0"):
        dbapi_connection.execute(f"PRAGMA {pragma}")


class LoopSqliteConnection(Opens):
    def __init__(self, engine: Any, lock: asyncio.Lock, plans: Plans) -> None:
        self._engine = engine
        self._lock = lock
        self._plans = plans
        self._sync: SyncConnection | None = None

    async def start(self) -> Self:
        await self._lock.acquire()
        try:
            self._sync = self._engine.connect()
        except BaseException:
            self._lock.release()
            raise
        return self

    @property
    def dialect(self) -> Dialect:
        return self._connection.dialect

    @property
    def _connection(self) -> SyncConnection:
        if self._sync is None:
            raise RuntimeError("connection is closed")
        return self._sync

    @overload
    async def execute(self, statement: Prepared, parameters: Any = None) -> DirectResult: ...

    @overload
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]: ...

    async def execute(self, statement: Executable | Prepared, parameters: Any = None) -> Any:
        connection = await self._begun()
        if not isinstance(statement, Prepared):
            return connection.execute(statement, parameters)
        plan = self._plans.get(statement, connection.dialect, parameters)
        try:
            cursor = self._raw.execute(plan.sql, plan.arguments(parameters))
            rows = cursor.fetchall()
        except sqlite3.Error as error:
            raise _driver_error(plan.sql, error) from error
        return plan.result(rows, lambda: [column[0] for column in cursor.description or ()], cursor.rowcount)

    async def execute_later(self, statement: Prepared, parameters: Any = None) -> None:
        statement.held_table()  # refuses what could not be held on PostgreSQL
        await self.execute(statement, parameters)  # in-process: nothing to save by waiting

    @property
    def _raw(self) -> sqlite3.Connection:
        raw = self._connection.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        return raw

    async def run_sync(self, fn: Callable[Concatenate[SyncConnection, P], T], *args: P.args, **kw: P.kwargs) -> T:
        return fn(await self._begun(), *args, **kw)

    def in_transaction(self) -> bool:
        return self._sync is not None and self._sync.in_transaction()

    async def commit(self) -> None:
        if self.in_transaction():
            self._connection.commit()

    async def rollback(self) -> None:
        if self.in_transaction():
            self._connection.rollback()

    async def close(self) -> None:
        sync, self._sync = self._sync, None
        if sync is None:
            return
        try:
            sync.close()
        finally:
            self._lock.release()

    async def _begun(self) -> SyncConnection:
        """The connection, in a transaction."""
        if not self._connection.in_transaction():
            await self._begin()
        return self._connection

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE takes the write lock now; if another process holds it, wait without blocking."""
        raw = self._raw
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + BUSY_SECONDS, 0.001
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
                if not busy or loop.time() > deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, error) from error
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
        self._connection.begin()  # SQLAlchemy's bookkeeping; pysqlite's do_begin sends nothing
