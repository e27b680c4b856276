"""Shared fixtures: databases (SQLite and PostgreSQL), a settable clock, the demo series."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from bot import datafile
from bot.services.series_admin import import_series
from bot.storage.engine import Database, create_engine
from bot.storage.migrate import upgrade
from bot.storage.tables import metadata
from bot.storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests import network_guard

ROOT = Path(__file__).resolve().parents[1]
DEMO_DATA = ROOT / "data" / "larprojekt-innovation.toml"
POSTGRES_ADMIN_URL = os.environ.get("LARTRAFF_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("LARTRAFF_REQUIRE_POSTGRES") == "1"

# A fixed "now": two weeks before the first demo session once it is moved to the future.
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def loopback_only() -> Iterator[None]:
    """No test reaches another machine (tests/network_guard.py)."""
    undo = network_guard.install()
    yield
    undo()


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _admin_dsn() -> str:
    return POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the local PostgreSQL, migrated once, dropped at the end."""
    name = f"lartraff_test_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but not reachable: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")
    base = _admin_dsn().rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://")
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that takes this runs once on SQLite and once on PostgreSQL, on an empty schema."""
    if request.param == "sqlite":
        path = tmp_path / "lartraff.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    yield clean_postgres(request.getfixturevalue("postgres_url"))


def clean_postgres(url: str) -> str:
    """The test database on PostgreSQL, emptied."""
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    asyncio.run(_truncate(url, tables))
    return url


async def _truncate(url: str, tables: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Database]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def uow_factory(engine: Database) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


async def seed_demo(engine: Database, now: datetime, *, capacity: int | None = None) -> None:
    """The demo series, moved so that its first session is at least two weeks after `now`."""
    series, sessions = datafile.load(DEMO_DATA)
    sessions = datafile.moved_to_future(sessions, now)
    if capacity is not None:
        sessions[0] = replace(sessions[0], capacity=capacity)
    async with SqlUnitOfWork(engine) as uow:
        await import_series(series, sessions, uow, now)
        await uow.commit()
