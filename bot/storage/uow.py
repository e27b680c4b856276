"""Unit of Work over one database connection and transaction: the one place a turn's or a job's changes
are committed or thrown away, and where recorded events become rows of the same transaction."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any, Self

from bot import telemetry
from bot.domain.events import Event, InvitationChanged, Message, SeatsChanged
from bot.storage.chat_cards import SqlChatCardRepository
from bot.storage.engine import Connection, Database
from bot.storage.meetings import SqlAttendanceRepository, SqlGraphSlots, SqlMeetingRepository
from bot.storage.privacy import SqlPrivacyRepository
from bot.storage.repositories import (
    SeriesCache,
    SqlActivityLog,
    SqlAuditRepository,
    SqlExportRepository,
    SqlFeedbackRepository,
    SqlOrganiserRepository,
    SqlOutboxRepository,
    SqlPersonRepository,
    SqlRegistrationRepository,
    SqlSeriesRegistrationRepository,
    SqlSeriesRepository,
    SqlSessionRepository,
    SqlSuggestionRepository,
)


class SqlUnitOfWork:
    series: SqlSeriesRepository
    sessions: SqlSessionRepository
    people: SqlPersonRepository
    registrations: SqlRegistrationRepository
    series_registrations: SqlSeriesRegistrationRepository
    activities: SqlActivityLog
    organisers: SqlOrganiserRepository
    audit: SqlAuditRepository
    outbox: SqlOutboxRepository
    exports: SqlExportRepository
    feedback: SqlFeedbackRepository
    suggestions: SqlSuggestionRepository
    meetings: SqlMeetingRepository
    graph_slots: SqlGraphSlots
    attendance: SqlAttendanceRepository
    privacy: SqlPrivacyRepository
    chat_cards: SqlChatCardRepository

    def __init__(self, engine: Database, series_cache: SeriesCache | None = None) -> None:
        self._engine = engine
        self._series_cache = series_cache
        self._conn: Connection | None = None
        # Session rows this transaction holds, taken on arrival or for a decision; gone at its end.
        self._locked: set[int] = set()
        self._span: Any = None  # the transaction's span, when telemetry is on

    async def __aenter__(self) -> Self:
        self._span = telemetry.begin("database")
        conn = await self._engine.connect()
        self._conn = conn
        self._locked.clear()
        self.series = SqlSeriesRepository(conn, self._series_cache)
        self.sessions = SqlSessionRepository(conn, self._locked)
        self.people = SqlPersonRepository(conn)
        self.registrations = SqlRegistrationRepository(conn, self.record)
        self.series_registrations = SqlSeriesRegistrationRepository(conn)
        self.activities = SqlActivityLog(conn, self._locked)
        self.organisers = SqlOrganiserRepository(conn)
        self.audit = SqlAuditRepository(conn)
        self.outbox = SqlOutboxRepository(conn)
        self.exports = SqlExportRepository(conn)
        self.feedback = SqlFeedbackRepository(conn)
        self.suggestions = SqlSuggestionRepository(conn)
        self.meetings = SqlMeetingRepository(conn)
        self.graph_slots = SqlGraphSlots(conn)
        self.attendance = SqlAttendanceRepository(conn)
        self.privacy = SqlPrivacyRepository(conn)
        self.chat_cards = SqlChatCardRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        telemetry.end(self._span, failed=exc is not None)
        self._span = None
        if conn is None:
            return
        try:
            # Anything not committed explicitly is thrown away: no half-written data.
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for tests and tools that read beside the repositories."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    async def record(self, now: datetime, *events: Event) -> None:
        messages: list[Message] = []
        seats: dict[int, None] = {}  # sessions, in order, each once
        invitations: dict[int, None] = {}
        for event in events:
            if isinstance(event, Message):
                messages.append(event)
            elif isinstance(event, SeatsChanged):
                seats[event.session_id] = None
            elif isinstance(event, InvitationChanged):
                invitations[event.session_id] = None
            else:
                raise TypeError(f"no rows for {type(event).__name__}")
        for session_id in seats:
            await self.meetings.attendees_changed(session_id, now)
        for session_id in invitations:
            await self.meetings.details_changed(session_id, now)
        if messages:
            await self.outbox.enqueue(messages, now)

    async def commit(self) -> None:
        self._locked.clear()
        if self._conn is not None and self._conn.in_transaction():
            await self._conn.commit()
            if self.series.changed and self._series_cache is not None:
                # Another transaction may have cached what was there before this one committed.
                self._series_cache.drop()
                self.series.changed = False

    async def rollback(self) -> None:
        self._locked.clear()
        if self._conn is not None and self._conn.in_transaction():
            await self._conn.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Database, series_cache: SeriesCache | None = None) -> None:
        self._engine = engine
        self._series_cache = series_cache

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine, self._series_cache)
