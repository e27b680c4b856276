"""Opens the database: SQLite on the event loop's own thread (WAL, one writer at a time), or PostgreSQL (asyncpg).

Both are used through the same small `Connection` protocol, a subset of SQLAlchemy's AsyncConnection.
Statements marked `Prepared` are run on the driver itself (see prepared.py), in the same transaction. Each
database's code is its own module, imported only when that database is opened: SQLAlchemy's PostgreSQL
dialects and asyncpg hold 7 MiB that a bot on SQLite has no use for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar, overload

import orjson
from sqlalchemy.engine import CursorResult, Dialect, make_url
from sqlalchemy.sql import Executable

from bot.storage.prepared import DirectResult, Prepared

# JSON columns (programmes, contacts, audit details) through orjson: several times faster than json.
JSON_CODEC: dict[str, Any] = {
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
        from bot.storage.sqlite import LoopSqlite

        return LoopSqlite(url, echo=echo)
    from bot.storage.postgres import Postgres

    return Postgres(url, echo=echo, pool_size=pool_size)


C = TypeVar("C", bound="Opens")


class Begins(Generic[C]):
    def connect(self) -> C:
        raise NotImplementedError

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[C]:
        """A connection whose transaction commits when the block ends without an error."""
        conn = self.connect()
        async with conn:
            yield conn
            await conn.commit()


class Opens:
    """`await db.connect()` or `async with db.connect() as conn`: either opens the connection."""

    async def start(self) -> Self:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def commit(self) -> None:
        raise NotImplementedError

    def __await__(self) -> Generator[Any, None, Self]:
        return self.start().__await__()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
