"""Statements per activity on the hot path, as the README's performance section gives them: a query added
to `träffar` or to a registration fails here. Counted at the connection, one per round trip on PostgreSQL
(writes carried in front of another count once), one per statement on SQLite; BEGIN and COMMIT apart."""

from __future__ import annotations

from typing import Any

import pytest
from asyncpg.transaction import Transaction
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.engine import Database
from bot.storage.postgres import PostgresConnection
from bot.storage.sqlite import LoopSqliteConnection
from cards import verbs
from tests.integration.harness import BotClient, all_text, session_ids


class Statements:
    def __init__(self) -> None:
        self.count = 0
        self.transactions = 0

    def counting(self, method: Any, what: str = "count") -> Any:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            setattr(self, what, getattr(self, what) + 1)
            return await method(*args, **kwargs)

        return counted


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    counter = Statements()
    monkeypatch.setattr(LoopSqliteConnection, "execute", counter.counting(LoopSqliteConnection.execute))
    monkeypatch.setattr(PostgresConnection, "_run", counter.counting(PostgresConnection._run))
    monkeypatch.setattr(AsyncConnection, "execute", counter.counting(AsyncConnection.execute))
    monkeypatch.setattr(Transaction, "start", counter.counting(Transaction.start, "transactions"))
    monkeypatch.setattr(LoopSqliteConnection, "_begin", counter.counting(LoopSqliteConnection._begin, "transactions"))
    return counter


async def test_statements_per_activity(
    bot: BotClient, engine: Database, database_url: str, statements: Statements
) -> None:
    postgres = database_url.startswith("postgresql")
    ids = await session_ids(engine)
    await bot.say("träffar")  # the series is read once and kept for a few seconds

    statements.count = statements.transactions = 0
    assert "Kommande lärträffar" in all_text(await bot.say("träffar"))
    overview, overview_transactions = statements.count, statements.transactions

    statements.count = statements.transactions = 0
    confirmed = await bot.click(
        verbs.REGISTER, {"session": ids[1], verbs.ORGANISATION: "Pajala kommun", verbs.ROLE: "Strateg"}
    )
    assert "✅ Du är anmäld" in all_text(confirmed)
    registration, registration_transactions = statements.count, statements.transactions

    # PostgreSQL: claim and sender in one; the overview; the series the person is registered for as a whole.
    # Claim, sender and the session's row lock in one; the session with the registration and the count;
    # profile, meeting marker and confirmation carried by the registration; the whole-series line of the
    # details card it answers with. SQLite runs each of those as a statement of its own, in-process.
    assert (overview, registration) == ((3, 4) if postgres else (4, 8))
    # One transaction per turn on either database (its arrival writes).
    assert (overview_transactions, registration_transactions) == (1, 1)
