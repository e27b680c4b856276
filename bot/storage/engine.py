"""Opens the database: SQLite on the event loop's own thread (WAL, one writer at a time), or PostgreSQL (asyncpg).

Both are used through the same small `Connection` protocol, a subset of SQLAlchemy's AsyncConnection.
Statements marked `Prepared` are run on the driver itself (see prepared.py), in the same transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, Self, TypeVar, overload

import asyncpg
import orjson
from asyncpg.prepared_stmt import PreparedStatement
from asyncpg.transaction import Transaction
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import CursorResult, Dialect, make_url
from sqlalchemy.exc import (
    DatabaseError,
    DataError,
    DBAPIError,
    IntegrityError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable

from bot.storage.prepared import DirectResult, Plan, Plans, Prepared, rowcount

P = ParamSpec("P")
T = TypeVar("T")

BUSY_SECONDS = 30.0  # how long a transaction waits for another process's write lock on SQLite
# JSON columns (programmes, contacts, audit details) through orjson: several times faster than json.
_JSON: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value).decode(),
    "json_deserializer": orjson.loads,
}


class Connection(Protocol):
    """What the repositories and the Unit of Work use of a connection."""

    @property
    def dialect(self) -> Dialect: ...

    @overload
    async def execute(self, statement: Prepared, parameters: Any = None) -> DirectResult: ...

    @overload
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]: ...

    async def execute(self, statement: Executable | Prepared, parameters: Any = None) -> Any: ...

    async def execute_later(self, statement: Prepared, parameters: Any = None) -> None:
        """A write whose result nobody reads: PostgreSQL sends it in front of the next write to another
        table, or before anything else runs, or at the commit; SQLite runs it now."""

    def in_transaction(self) -> bool: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def close(self) -> None: ...


class Opening(Protocol):
    """`await db.connect()`, or `async with db.connect() as conn`."""

    def __await__(self) -> Generator[Any, None, Any]: ...

    async def __aenter__(self) -> Any: ...

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any, /) -> Any: ...


class Database(Protocol):
    def connect(self) -> Opening: ...

    def begin(self) -> AbstractAsyncContextManager[Any]:
        """A connection whose transaction commits when the block ends without an error."""
        ...

    async def dispose(self) -> None: ...


def normalise_url(url: str) -> str:
    """Accept the usual `postgresql://` and `sqlite:///` forms (and `sqlite+aiosqlite://`) and pick the drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.get_backend_name() == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 32) -> Database:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return LoopSqlite(url, echo=echo)
    return Postgres(url, echo=echo, pool_size=pool_size)


def _driver_error(sql: str, error: Exception, dbapi_error: type[Exception]) -> Exception:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError, …), without parameters."""
    return DBAPIError.instance(sql, None, error, dbapi_error, hide_parameters=True)


C = TypeVar("C", bound="LoopSqliteConnection | PostgresConnection")


class _Begins(Generic[C]):
    def connect(self) -> C:
        raise NotImplementedError

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[C]:
        """A connection whose transaction commits when the block ends without an error."""
        conn = self.connect()
        async with conn:
            yield conn
            await conn.commit()


class LoopSqlite(_Begins["LoopSqliteConnection"]):
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
            connect_args={"check_same_thread": False, "timeout": BUSY_SECONDS}, **_JSON,
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


class _Opens:
    """`await db.connect()` or `async with db.connect() as conn`: either opens the connection."""

    async def start(self) -> Self:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def __await__(self) -> Generator[Any, None, Self]:
        return self.start().__await__()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class LoopSqliteConnection(_Opens):
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
            raise _driver_error(plan.sql, error, sqlite3.Error) from error
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


class Postgres(_Begins["PostgresConnection"]):
    """PostgreSQL through SQLAlchemy's asyncpg engine in autocommit mode, the transaction held by asyncpg's own
    `Connection.transaction()`: SQLAlchemy's statements and the prepared ones (run on asyncpg directly) then
    share it, through nothing but the two libraries' public APIs."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 32) -> None:
        # hide_parameters: database errors in the log never carry names, e-mails or reasons.
        # No pre-ping (a round trip on every turn): connections are replaced after 4 minutes instead, before
        # Azure's load balancers drop idle ones, and one broken by a database restart fails a single turn.
        # Kept connections and no overflow: overflow connections are closed when handed back, so under a
        # burst they were opened and closed again turn after turn (asyncpg connect in the profile). Turns
        # beyond the pool wait for a connection, which costs latency: 32, the turns an instance has in
        # flight in the benchmark, against 20 measured p99 149 -> 117 ms (register), 118 -> 97 (träffar).
        self.engine: AsyncEngine = create_async_engine(
            url, echo=echo, hide_parameters=True, pool_size=pool_size, max_overflow=0, pool_recycle=240,
            isolation_level="AUTOCOMMIT", **_JSON,
        )  # fmt: skip
        self._plans = Plans()
        # asyncpg's prepared statements, per pooled driver connection: prepared once, run on every turn.
        self._statements: weakref.WeakKeyDictionary[asyncpg.Connection, dict[str, PreparedStatement]] = (
            weakref.WeakKeyDictionary()
        )

    def connect(self) -> PostgresConnection:
        return PostgresConnection(self.engine, self._plans, self._statements)

    async def dispose(self) -> None:
        await self.engine.dispose()


class PostgresConnection(_Opens):
    """One pooled connection; its transaction begins at the first statement and is ended by commit, rollback
    or close, on asyncpg's connection, which SQLAlchemy's statements run on as well."""

    def __init__(
        self,
        engine: AsyncEngine,
        plans: Plans,
        statements: weakref.WeakKeyDictionary[asyncpg.Connection, dict[str, PreparedStatement]],
    ) -> None:
        self._engine = engine
        self._plans = plans
        self._all_statements = statements
        self._async: AsyncConnection | None = None
        self._driver: asyncpg.Connection | None = None
        self._transaction: Transaction | None = None
        self._held: list[tuple[str, Plan, list[Any]]] = []  # (table, plan, arguments) not yet sent

    async def start(self) -> Self:
        self._async = await self._engine.connect()
        try:
            driver = (await self._async.get_raw_connection()).driver_connection
            if not isinstance(driver, asyncpg.Connection):
                raise TypeError("the PostgreSQL engine must run on asyncpg")
            self._driver = driver
        except BaseException:
            await self._async.close()
            self._async = None
            raise
        return self

    @property
    def _connection(self) -> AsyncConnection:
        if self._async is None:
            raise RuntimeError("connection is closed")
        return self._async

    @property
    def dialect(self) -> Dialect:
        return self._connection.dialect

    @overload
    async def execute(self, statement: Prepared, parameters: Any = None) -> DirectResult: ...

    @overload
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]: ...

    async def execute(self, statement: Executable | Prepared, parameters: Any = None) -> Any:
        connection = self._connection
        if not isinstance(statement, Prepared):
            await self._send_held()
            await self._begin()
            try:
                return await connection.execute(statement, parameters)
            except DBAPIError as error:
                if error.connection_invalidated:
                    self._transaction = None  # gone with the connection
                raise
        plan = self._plans.get(statement, connection.dialect, parameters)
        arguments = plan.arguments(parameters)
        if self._held and not self._may_carry(statement.writes):
            await self._send_held()
        return await self._run(plan, arguments)

    async def execute_later(self, statement: Prepared, parameters: Any = None) -> None:
        table = statement.held_table()
        plan = self._plans.get(statement, self._connection.dialect, parameters)
        arguments = plan.arguments(parameters)
        if not self._may_carry(table):
            await self._send_held()  # two writes to one table in one statement would not see each other
        self._held.append((table, plan, arguments))

    def _may_carry(self, table: str | None) -> bool:
        return table is not None and all(held != table for held, _, _ in self._held)

    async def _send_held(self) -> None:
        if self._held:
            _, plan, arguments = self._held.pop()
            await self._run(plan, arguments)

    async def _run(self, plan: Plan, arguments: list[Any]) -> DirectResult:
        """Runs `plan`, carrying the held writes in front of it."""
        sql = plan.sql
        if self._held:
            held, self._held = self._held, []
            sql = self._plans.carried([p for _, p, _ in held], plan)
            arguments = [argument for _, _, args in held for argument in args] + arguments
        await self._begin()
        driver = self._driver_connection
        try:
            prepared = await self._prepared(driver, sql)
            rows = await prepared.fetch(*arguments)
        except Exception as error:
            raise await self._failed(sql, error) from error
        return plan.result(rows, lambda: [attribute.name for attribute in prepared.get_attributes()],
                           rowcount(prepared.get_statusmsg()))  # fmt: skip

    async def _prepared(self, driver: asyncpg.Connection, sql: str) -> PreparedStatement:
        statements = self._all_statements.setdefault(driver, {})
        prepared = statements.get(sql)
        if prepared is None:
            prepared = statements[sql] = await driver.prepare(sql)
        return prepared

    @property
    def _driver_connection(self) -> asyncpg.Connection:
        if self._driver is None:
            raise RuntimeError("connection is closed")
        return self._driver

    async def _begin(self) -> None:
        if self._transaction is None:
            try:
                transaction = self._driver_connection.transaction()
                await transaction.start()
            except Exception as error:
                raise await self._failed("BEGIN", error) from error
            self._transaction = transaction

    async def _failed(self, sql: str, error: Exception) -> Exception:
        """The error as SQLAlchemy would raise it, doing what it would do: a connection the server dropped is
        not handed back to the pool, and after a schema change statements are prepared anew."""
        if not isinstance(error, (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)):
            return error
        driver = self._driver
        # Anything but the server's own answer to a statement leaves the connection in a state we cannot know
        # (a backend terminated mid-protocol can give "another operation is in progress"): thrown away. So is a
        # connection the server says it is shutting down or has lost.
        state = str(getattr(error, "sqlstate", "") or "")
        dropped = (
            driver is None
            or driver.is_closed()
            or not isinstance(error, asyncpg.PostgresError)
            or state[:2] == "08"
            or state in ("57P01", "57P02", "57P03")
        )
        # Another instance migrated the database (a cached statement no longer fits), or the connection is
        # gone: prepare anew from the next statement on.
        if driver is not None and (
            dropped or isinstance(error, (asyncpg.InvalidCachedStatementError, asyncpg.FeatureNotSupportedError))
        ):
            self._all_statements.pop(driver, None)
        if dropped:
            self._transaction = None
            self._held.clear()
            await self._connection.invalidate()
        kind = OperationalError if dropped else _ERROR_CLASSES.get(state[:2], DatabaseError)
        return kind(sql, None, error, hide_parameters=True, connection_invalidated=dropped)

    async def run_sync(self, fn: Callable[Concatenate[SyncConnection, P], T], *args: P.args, **kw: P.kwargs) -> T:
        await self._send_held()
        await self._begin()
        return await self._connection.run_sync(fn, *args, **kw)

    def in_transaction(self) -> bool:
        return bool(self._held) or self._transaction is not None

    async def commit(self) -> None:
        await self._send_held()
        await self._end(commit=True)

    async def rollback(self) -> None:
        self._held.clear()
        await self._end(commit=False)

    async def _end(self, *, commit: bool) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None:
            return
        try:
            await (transaction.commit() if commit else transaction.rollback())
        except Exception as error:
            raise await self._failed("COMMIT" if commit else "ROLLBACK", error) from error
        finally:
            # SQLAlchemy autobegins its own (here empty) transaction on its connection: end it as well.
            if self._async is not None and self._async.in_transaction():
                await self._async.rollback()

    async def close(self) -> None:
        self._held.clear()
        try:
            if self._transaction is not None:
                await self.rollback()
        finally:
            connection, self._async, self._driver = self._async, None, None
            if connection is not None:
                await connection.close()


# PostgreSQL's error classes (SQLSTATE's first two characters), as SQLAlchemy's DB-API errors.
_ERROR_CLASSES: dict[str, type[DBAPIError]] = {
    "08": OperationalError,  # connection exception
    "22": DataError,
    "23": IntegrityError,
    "40": OperationalError,  # serialization failure, deadlock
    "42": ProgrammingError,
    "53": OperationalError,  # insufficient resources
    "57": OperationalError,  # operator intervention (shutdown, cancelled)
    "0A": NotSupportedError,
    "XX": InternalError,
}
