"""Statements of the hot path, compiled once per database and run on the driver itself.

SQLAlchemy builds an execution context, a cursor wrapper and (on PostgreSQL) a greenlet for every
statement it runs: measured 169 µs CPU for a one-row SELECT on asyncpg against 95 µs when the compiled
SQL, its parameter converters and its column converters are kept and the driver is called directly.
SQLAlchemy still builds, compiles and types every statement; only the running is ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import ReturnsRows

Converter = Callable[[Any], Any]
_STATUS = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+|MERGE) (\d+)")
_PARAMETER = re.compile(r"\$(\d+)")


class Prepared:
    """A statement built once at import and run on every turn. Repositories pass it to `execute` like
    any statement; the connection compiles it once and runs it without SQLAlchemy's execution layer.

    `writes` names the one table a plain write changes while reading no other (INSERT … VALUES, UPDATE by
    key). Only such a write can be held back (`execute_later`) or carry held writes to other tables in
    front of it as data-modifying CTEs, one round trip for several writes on PostgreSQL.
    """

    __slots__ = ("statement", "writes")

    def __init__(self, statement: ClauseElement, *, writes: str | None = None) -> None:
        self.statement = statement
        self.writes = writes

    def held_table(self) -> str:
        """The table of a write that may be held back; anything else is refused."""
        if self.writes is None:
            raise TypeError("only a plain write to one table can be held")
        return self.writes


class DirectResult(IteratorResult[Any]):
    """SQLAlchemy's own in-memory result (rows, mappings, scalars), plus the driver's row count."""

    def __init__(self, metadata: SimpleResultMetaData, rows: Iterable[tuple[Any, ...]], rowcount: int) -> None:
        super().__init__(metadata, iter(rows))
        self.rowcount = rowcount


class Plan:
    """One statement compiled for one dialect: SQL, argument order and converters, column converters."""

    __slots__ = ("_binds", "_columns", "_fixed", "_metadata", "_names", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError("only SQL statements can be prepared")
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise TypeError("statements with expanding parameters are run by SQLAlchemy, not prepared")
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise TypeError("statements that need Python-side column defaults are run by SQLAlchemy, not prepared")
        self.sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        binds = compiled.binds
        # Values bound when the statement was built (literals such as a status) stand unless given.
        self._fixed = {name: bind.effective_value for name, bind in binds.items() if not bind.required}
        self._binds: tuple[Converter | None, ...] = tuple(_bind_converter(binds[name], dialect) for name in self._names)
        returned = list(statement.exported_columns) if isinstance(statement, ReturnsRows) else []
        columns = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned]
        self._columns: tuple[Converter | None, ...] | None = tuple(columns) if any(columns) else None
        keys = [column.key for column in returned]
        self._metadata = SimpleResultMetaData(keys) if keys else None

    @property
    def parameter_count(self) -> int:
        return len(self._names)

    def arguments(self, parameters: Mapping[str, Any] | None) -> list[Any]:
        values = {**self._fixed, **parameters} if parameters else self._fixed
        missing = [name for name in self._names if name not in values]
        if missing:
            raise KeyError(f"no value for {', '.join(missing)}")
        return [
            value if convert is None else convert(value)
            for convert, value in zip(self._binds, (values[name] for name in self._names), strict=True)
        ]

    def result(self, rows: Iterable[Iterable[Any]], names: Callable[[], Sequence[str]], rowcount: int) -> DirectResult:
        """`names` gives the driver's column names, asked only for statements SQLAlchemy cannot name
        (text with RETURNING)."""
        metadata = self._metadata or SimpleResultMetaData(list(names()))
        columns = self._columns
        if columns is None:
            return DirectResult(metadata, (tuple(row) for row in rows), rowcount)
        converted = (
            tuple(value if convert is None else convert(value) for convert, value in zip(columns, row, strict=True))
            for row in rows
        )
        return DirectResult(metadata, converted, rowcount)


class Plans:
    """The plans of one database, made at first use. Bounded by the prepared statements in the code
    (times the column sets an INSERT or UPDATE is given, which SQLAlchemy compiles into its SQL)."""

    def __init__(self) -> None:
        self._plans: dict[Any, Plan] = {}
        self._carried: dict[tuple[Plan, ...], str] = {}

    def carried(self, held: Sequence[Plan], main: Plan) -> str:
        """PostgreSQL: the held writes as data-modifying CTEs in front of `main`, in one statement. They
        see the snapshot `main` sees, so none may touch a table another writes or `main` reads."""
        key = (*held, main)
        sql = self._carried.get(key)
        if sql is None:
            parts, offset = [], 0
            for n, plan in enumerate(held):
                parts.append(f"held_{n} AS ({_renumbered(plan.sql, offset)})")
                offset += plan.parameter_count
            sql = self._carried[key] = f"WITH {', '.join(parts)} {_renumbered(main.sql, offset)}"
        return sql

    def get(self, prepared: Prepared, dialect: Dialect, parameters: Mapping[str, Any] | None) -> Plan:
        statement = prepared.statement
        dml = getattr(statement, "is_dml", False)
        key: Any = (prepared, frozenset(parameters)) if dml and parameters else prepared
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(statement, dialect, sorted(parameters) if dml and parameters else None)
        return plan


def _bind_converter(bind: BindParameter[Any], dialect: Dialect) -> Converter | None:
    converter: Converter | None = bind.type.dialect_impl(dialect).bind_processor(dialect)
    return converter


def _renumbered(sql: str, offset: int) -> str:
    """`$1` becomes `$(1 + offset)`. Our prepared SQL holds no `$` but in parameters."""
    return _PARAMETER.sub(lambda match: f"${int(match.group(1)) + offset}", sql) if offset else sql


def rowcount(status: str | None) -> int:
    """Rows a PostgreSQL command touched, from its status ("UPDATE 3")."""
    match = _STATUS.match(status or "")
    return int(match.group(1)) if match else -1
