"""Migrations: up and down and up again, on both databases, and the schema they make is the code's."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from bot.storage.engine import create_engine
from bot.storage.migrate import alembic_config
from bot.storage.tables import metadata


def _differences(url: str) -> list[object]:
    async def run() -> list[object]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:

                def compare(sync: Connection) -> list[object]:
                    context = MigrationContext.configure(sync, opts={"compare_type": False})
                    return list(compare_metadata(context, metadata))

                differences: list[object] = await conn.run_sync(compare)
                return differences
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_down_and_up_again_and_schema_matches_the_code(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    assert _differences(database_url) == []


def test_head_constant_is_alembics_head_and_a_database_there_is_left_alone(database_url: str) -> None:
    from alembic.script import ScriptDirectory

    from bot.storage.migrate import HEAD, current_revision, upgrade

    config = alembic_config(database_url)
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD
    command.downgrade(config, "0004")
    assert asyncio.run(current_revision(database_url)) == "0004"
    upgrade(database_url)  # behind: migrated
    assert asyncio.run(current_revision(database_url)) == HEAD
    upgrade(database_url)  # at head: nothing to do
    assert _differences(database_url) == []
