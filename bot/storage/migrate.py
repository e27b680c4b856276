"""Applies the Alembic migrations to the configured database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.storage.engine import create_engine, normalise_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision: a database already there is left alone without loading Alembic (9 MiB that would
# stay in the bot's memory). A test keeps this equal to the head of `migrations/versions`.
HEAD = "0015"


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser would read '%' in a password as interpolation.
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Blocking: call it before the event loop starts, or in a worker thread."""
    if asyncio.run(current_revision(database_url)) == HEAD:
        return
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at; None for a new database."""
    database = create_engine(database_url)
    try:
        async with database.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:  # no version table yet
        return None
    finally:
        await database.dispose()
    return str(rows[0]) if len(rows) == 1 else None
