"""Prepared statements run on the driver itself: same rows and types as SQLAlchemy, same transaction,
same errors, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, MetaData, String, Table, bindparam, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.logs import DiscreetFormatter
from bot.storage import tables as t
from bot.storage.engine import Database, create_engine
from bot.storage.postgres import Postgres
from bot.storage.prepared import Plan, Plans, Prepared, rowcount

A = t.processed_activities
_INSERT = Prepared(A.insert().values(activity_id=bindparam("id"), processed_at=bindparam("at")))
_BY_ID = Prepared(select(A).where(A.c.activity_id == bindparam("id")))
_MOVE = Prepared(A.update().where(A.c.processed_at < bindparam("before")).values(processed_at=bindparam("to")))
_COUNT = Prepared(select(func.count()).select_from(A))
_RETURNING_TEXT = Prepared(
    text("INSERT INTO processed_activities (activity_id, processed_at) VALUES (:id, :at) RETURNING activity_id")
    .bindparams(bindparam("at", type_=t.UTCDateTime))
)  # fmt: skip

WHEN = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)


async def test_rows_and_types_are_those_sqlalchemy_gives(engine: Database) -> None:
    async with engine.connect() as conn:
        await conn.execute(_INSERT, {"id": "a1", "at": WHEN.astimezone(tz=None)})
        direct = (await conn.execute(_BY_ID, {"id": "a1"})).one()
        through_sqlalchemy = (await conn.execute(_BY_ID.statement, {"id": "a1"})).one()
        assert direct == through_sqlalchemy == ("a1", WHEN)
        assert direct.processed_at.tzinfo is not None  # the column's own converter ran
        assert (await conn.execute(_BY_ID, {"id": "a1"})).mappings().one()["activity_id"] == "a1"
        assert (await conn.execute(_RETURNING_TEXT, {"id": "a2", "at": WHEN})).scalar_one() == "a2"
        assert (await conn.execute(_BY_ID, {"id": "nobody"})).first() is None


async def test_rowcount_of_an_update(engine: Database) -> None:
    async with engine.begin() as conn:
        for n in range(3):
            await conn.execute(_INSERT, {"id": f"m{n}", "at": WHEN + timedelta(days=n)})
        moved = await conn.execute(_MOVE, {"before": WHEN + timedelta(days=2), "to": WHEN + timedelta(days=9)})
        assert moved.rowcount == 2


async def test_prepared_and_sqlalchemy_statements_share_one_transaction(engine: Database) -> None:
    async with engine.connect() as conn:
        await conn.execute(_INSERT, {"id": "p1", "at": WHEN})
        await conn.execute(A.insert().values(activity_id="s1", processed_at=WHEN))
        assert (await conn.execute(_COUNT)).scalar_one() == 2
        await conn.rollback()
        assert (await conn.execute(_COUNT)).scalar_one() == 0
        await conn.execute(A.insert().values(activity_id="s2", processed_at=WHEN))
        await conn.execute(_INSERT, {"id": "p2", "at": WHEN})
        await conn.commit()
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(A))).scalar_one() == 2


async def test_a_constraint_violation_is_sqlalchemys_error_and_its_values_stay_out_of_the_log(
    engine: Database,
) -> None:
    address = "@".join(["hemlig.person", "example.com"])  # joined, so no source line in the traceback holds it
    async with engine.connect() as conn:
        await conn.execute(_INSERT, {"id": address, "at": WHEN})
        with pytest.raises(IntegrityError) as raised:
            await conn.execute(_INSERT, {"id": address, "at": WHEN})
        logged = DiscreetFormatter().formatException((raised.type, raised.value, raised.tb))
        assert "IntegrityError" in logged
        assert address not in logged
        if conn.dialect.name == "postgresql":  # PostgreSQL's DETAIL names the key; the plain formatter shows it
            assert address in logging.Formatter().formatException((raised.type, raised.value, raised.tb))
        await conn.rollback()
        assert (await conn.execute(_COUNT)).scalar_one() == 0  # usable after the error


async def test_a_missing_parameter_is_refused_before_the_database(engine: Database) -> None:
    async with engine.connect() as conn:
        with pytest.raises(KeyError, match="at"):
            await conn.execute(_INSERT, {"id": "x"})


def test_statements_sqlalchemy_must_expand_or_default_are_not_prepared() -> None:
    dialect = sqlite.dialect()
    expanding = select(A).where(A.c.activity_id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(TypeError, match="expanding"):
        Plan(expanding, dialect, None)
    with pytest.raises(TypeError, match="defaults"):  # people.name has a Python-side default
        Plan(t.people.insert(), dialect, ["tenant_id", "aad_object_id"])


def test_rowcount_from_postgresql_status() -> None:
    assert rowcount("UPDATE 3") == 3
    assert rowcount("INSERT 0 1") == 1
    assert rowcount("SELECT 12") == 12
    assert rowcount("BEGIN") == -1
    assert rowcount(None) == -1


# Held writes: sent with the next write to another table, before anything else, or at the commit.
_HELD_INSERT = Prepared(A.insert().values(activity_id=bindparam("id"), processed_at=bindparam("at")), writes=A.name)
S = t.graph_slots
_SLOT = Prepared(S.insert().values(mailbox=bindparam("mailbox"), slot=bindparam("slot")), writes=S.name)


async def _count(engine: Database) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(A))).scalar_one())


async def test_a_held_write_is_sent_at_the_commit(engine: Database) -> None:
    async with engine.connect() as conn:
        await conn.execute_later(_HELD_INSERT, {"id": "h1", "at": WHEN})
        assert conn.in_transaction()
        await conn.commit()
    assert await _count(engine) == 1


async def test_a_held_write_is_dropped_by_a_rollback(engine: Database) -> None:
    async with engine.connect() as conn:
        await conn.execute_later(_HELD_INSERT, {"id": "h1", "at": WHEN})
        await conn.rollback()
        await conn.commit()
    assert await _count(engine) == 0


async def test_reads_see_held_writes(engine: Database) -> None:
    async with engine.connect() as conn:
        await conn.execute_later(_HELD_INSERT, {"id": "h1", "at": WHEN})
        assert (await conn.execute(_COUNT)).scalar_one() == 1
        await conn.execute_later(_HELD_INSERT, {"id": "h2", "at": WHEN})
        assert (await conn.execute(select(func.count()).select_from(A))).scalar_one() == 2
        await conn.execute_later(_HELD_INSERT, {"id": "h3", "at": WHEN})
        await conn.execute_later(_HELD_INSERT, {"id": "h4", "at": WHEN})  # same table: h3 goes first
        await conn.commit()
    assert await _count(engine) == 4


async def test_a_write_to_another_table_carries_the_held_ones(
    engine: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    carried: list[str] = []
    original = Plans.carried

    def spy(self: Plans, held: list[Plan], main: Plan) -> str:
        sql = original(self, held, main)
        carried.append(sql)
        return sql

    monkeypatch.setattr(Plans, "carried", spy)
    async with engine.connect() as conn:
        await conn.execute_later(_HELD_INSERT, {"id": "h1", "at": WHEN})
        await conn.execute(_SLOT, {"mailbox": "m@example.com", "slot": 0})
        await conn.commit()
        slots = (await conn.execute(select(func.count()).select_from(S))).scalar_one()
        dialect = conn.dialect.name
    assert await _count(engine) == 1
    assert slots == 1
    if dialect == "postgresql":
        assert len(carried) == 1
        assert carried[0].startswith("WITH held_0 AS (INSERT INTO processed_activities")
    else:
        assert carried == []  # SQLite runs every write at once: in-process, nothing to save


async def test_a_held_write_that_fails_fails_the_transaction(engine: Database) -> None:
    async with engine.connect() as conn:
        await conn.execute(_INSERT, {"id": "taken", "at": WHEN})
        await conn.commit()
    async with engine.connect() as conn:

        async def hold_both_and_commit() -> None:  # SQLite fails at the second write, PostgreSQL at the commit
            await conn.execute_later(_HELD_INSERT, {"id": "new", "at": WHEN})
            await conn.execute_later(_HELD_INSERT, {"id": "taken", "at": WHEN})
            await conn.commit()

        with pytest.raises(IntegrityError):
            await hold_both_and_commit()
        await conn.rollback()
    assert await _count(engine) == 1


async def test_only_plain_writes_are_held(engine: Database) -> None:
    async with engine.connect() as conn:
        with pytest.raises(TypeError):
            await conn.execute_later(_BY_ID, {"id": "x"})


def test_carried_writes_number_their_parameters_after_each_other() -> None:
    dialect = make_url("postgresql+asyncpg://").get_dialect()()
    plans = Plans()
    held = plans.get(_HELD_INSERT, dialect, {"id": "a", "at": WHEN})
    main = plans.get(_SLOT, dialect, {"mailbox": "m", "slot": 1})
    sql = plans.carried([held], main)
    assert sql == (
        "WITH held_0 AS (INSERT INTO processed_activities (activity_id, processed_at) "
        "VALUES ($1::VARCHAR, $2::TIMESTAMP WITH TIME ZONE)) "
        "INSERT INTO graph_slots (mailbox, slot) VALUES ($3::VARCHAR, $4::INTEGER)"
    )


async def test_a_transaction_left_open_is_rolled_back_when_the_connection_closes(engine: Database) -> None:
    for _ in range(3):  # the pool hands the same connection back: it must not still be in a transaction
        async with engine.connect() as conn:
            await conn.execute(_INSERT, {"id": "left-open", "at": WHEN})
            assert conn.in_transaction()
    assert await _count(engine) == 0
    async with engine.begin() as conn:
        await conn.execute(_INSERT, {"id": "committed", "at": WHEN})
    assert await _count(engine) == 1


async def test_code_run_on_sqlalchemys_own_connection_sees_held_writes(engine: Database) -> None:
    def count(sync: Connection) -> int:
        return int(sync.execute(select(func.count()).select_from(A)).scalar_one())

    async with engine.connect() as conn:
        await conn.execute_later(_HELD_INSERT, {"id": "h1", "at": WHEN})
        assert await conn.run_sync(count) == 1


async def test_after_a_schema_change_statements_are_prepared_anew(engine: Database, database_url: str) -> None:
    """Another instance migrating the database fails at most one statement here, not every one after it."""
    probe = Table("prepared_probe", MetaData(), Column("code", String(10)))
    read = Prepared(select(probe.c.code))
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE prepared_probe (code varchar(10))"))
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(read)).all() == []
        migrator = create_engine(database_url)
        async with migrator.begin() as conn:
            change = "ALTER COLUMN code TYPE varchar(20)" if conn.dialect.name == "postgresql" else "ADD COLUMN n int"
            await conn.execute(text(f"ALTER TABLE prepared_probe {change}"))
        await migrator.dispose()
        outcomes = []
        for _ in range(3):
            async with engine.connect() as conn:
                try:
                    outcomes.append((await conn.execute(read)).all())
                except DBAPIError:
                    outcomes.append(None)
        assert outcomes[1:] == [[], []]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE prepared_probe"))


async def test_the_pool_keeps_as_many_connections_as_configured(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=3)
    try:
        assert isinstance(engine, Postgres)
        assert engine.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_a_connection_the_server_dropped_fails_one_turn_and_is_replaced(postgres_url: str) -> None:
    """A database restart or failover: without a pre-ping, the pooled connection fails once and is
    thrown away instead of being handed out again."""
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await conn.commit()
        admin = create_engine(postgres_url)
        async with admin.begin() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await admin.dispose()
        outcomes: list[object] = []
        for _ in range(3):
            async with engine.connect() as conn:
                try:
                    outcomes.append((await conn.execute(_COUNT)).scalar_one() >= 0)
                except DBAPIError as error:
                    outcomes.append(f"invalidated={error.connection_invalidated}")
        assert outcomes == ["invalidated=True", True, True]
    finally:
        await engine.dispose()
