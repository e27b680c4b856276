"""Queues the messages that time brings: reminders, "how was it?" after a session, the organisers' digest
(new absences and how many theme suggestions came in); and purges, once a day, what has been kept for the
retention period.

Driven by database state and idempotency keys, so it may run in every instance at once and after any
downtime: each message is queued once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.domain.events import Digest, FeedbackRequest, Message, Reminder
from bot.domain.model import RegistrationStatus
from bot.domain.privacy import DEFAULT_RETENTION_MONTHS
from bot.services import privacy
from bot.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduleSettings:
    reminders: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=1))
    feedback_window: timedelta = timedelta(days=3)  # after a session, how long "how was it?" may still go out
    digest_every: timedelta = timedelta(hours=1)
    retention_months: int = DEFAULT_RETENTION_MONTHS
    purge_every: timedelta = timedelta(days=1)
    poll: float = 60.0


class Scheduler:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, settings: ScheduleSettings = ScheduleSettings()
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._settings = settings
        self._purged_at: datetime | None = None

    async def run_once(self) -> int:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            queued = await self._reminders(uow, now) + await self._feedback(uow, now) + await self._digests(uow, now)
            await uow.commit()
        if self._purged_at is None or now - self._purged_at >= self._settings.purge_every:
            await self.purge(now)
        return queued

    async def purge(self, now: datetime) -> None:
        """Retention, in its own transaction: idempotent, so every instance may run it."""
        async with self._uow_factory() as uow:
            purged = await privacy.purge(uow, now, self._settings.retention_months)
            await uow.commit()
        self._purged_at = now
        if purged.total:
            log.info(
                "retention: %d reasons, %d comments, %d suggestions' authors, %d attendance rows, %d people, "
                "%d expired links purged",
                purged.reasons, purged.comments, purged.suggestions, purged.attendance, purged.people, purged.links,
            )  # fmt: skip

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("scheduler run failed; trying again at the next poll")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._settings.poll)

    async def _reminders(self, uow: UnitOfWork, now: datetime) -> int:
        offsets: Sequence[timedelta] = sorted(self._settings.reminders, reverse=True)
        if not offsets:
            return 0
        messages: list[Message] = []
        for session in await uow.sessions.starting_between(now, now + offsets[0]):
            for i, offset in enumerate(offsets):
                due = session.starts_at - offset
                until = session.starts_at - offsets[i + 1] if i + 1 < len(offsets) else session.starts_at
                if not due <= now < until:
                    continue
                days = max(1, round(offset / timedelta(days=1)))
                for person, registration in await uow.registrations.entries(session.id):
                    # Registered after the reminder was due: the confirmation just told them.
                    if registration.status is RegistrationStatus.REGISTERED and registration.status_changed_at <= due:
                        offset_seconds = int(offset.total_seconds())
                        messages.append(Reminder(person.id, session.id, days=days, offset_seconds=offset_seconds))
        await uow.record(now, *messages)
        return len(messages)

    async def _feedback(self, uow: UnitOfWork, now: datetime) -> int:
        messages: list[Message] = []
        for session in await uow.sessions.ended_between(now - self._settings.feedback_window, now):
            for person, registration in await uow.registrations.entries(session.id):
                # An erased person's place stays in the figures; there is nobody left to ask.
                if registration.status is RegistrationStatus.REGISTERED and not person.erased:
                    messages.append(FeedbackRequest(person.id, session.id))
        await uow.record(now, *messages)
        return len(messages)

    async def _digests(self, uow: UnitOfWork, now: datetime) -> int:
        every = self._settings.digest_every
        # Windows fixed on the clock, so that instances running at once compute the same window and key.
        bucket = int(now.timestamp() // every.total_seconds())
        window_end = datetime.fromtimestamp(bucket * every.total_seconds(), UTC)
        queued = 0
        for series in await uow.series.list_all():
            if not (series.organiser_service_url and series.organiser_channel_id):
                continue
            since = series.last_digest_at or window_end - every
            if since >= window_end:
                continue
            absences = await uow.registrations.absences_since(series.id, since, window_end)
            suggested = await uow.suggestions.count(series.id, since, window_end)
            undelivered = await uow.outbox.failed_since(series.id, since, window_end)
            if absences or suggested or undelivered:
                lines = [(s.number, p.name, p.organisation, r.absence_reason) for s, p, r in absences]
                await uow.record(now, Digest(series.id, bucket, lines, suggested, undelivered))
                queued += 1
            await uow.series.update(replace(series, last_digest_at=window_end))
        return queued
