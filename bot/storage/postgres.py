"""PostgreSQL through asyncpg: SQLAlchemy's engine for its statements, asyncpg's own for prepared ones."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Self, TypeVar, overload

import asyncpg
from asyncpg.prepared_stmt import PreparedStatement
from asyncpg.transaction import Transaction
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import CursorResult, Dialect
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
from sqlalchemy.sql import Executable

from bot.storage.engine import JSON_CODEC, Begins, Opens
from bot.storage.prepared import DirectResult, Plan, Plans, Prepared, rowcount

P = ParamSpec("P")
T = TypeVar("T")


class Postgres(Begins["PostgresConnection"]):
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
            isolation_level="AUTOCOMMIT", **JSON_CODEC,
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


class PostgresConnection(Opens):
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
