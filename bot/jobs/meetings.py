"""Keeps each published session's Teams meeting in step with the database, through Microsoft Graph.

The database says what Graph should have (versions raised in the transactions that change registrations
or sessions); this job claims meetings that are behind, computes the wanted state at send time and sends
it. Many changes become one request; a repeat is harmless. Progress lives in the database, so a restart,
a crash or an hour of Graph being down only delays it. Every request holds one of the mailbox's four
slots, shared by all instances through the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.meetings import (
    ATTENDANCE_GIVE_UP,
    ATTENDANCE_RETRY,
    AttendanceState,
    Meeting,
    Step,
    backoff,
    declined,
    desired_invitees,
)
from bot.domain.model import Person, SessionStatus
from bot.i18n import Catalogs
from bot.jobs.loop import run_batches
from bot.services import meetings as service
from bot.services.calendar import Calendar, CalendarError, Invitee, addresses
from bot.services.invitation import invitation
from bot.services.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

PERMANENT_RETRY = timedelta(hours=1)  # after a refusal an organiser must fix; look again now and then


@dataclass(frozen=True)
class ReconcilerSettings:
    poll_every: timedelta = timedelta(minutes=15)  # how often invitees' responses (declines) are read
    lease: timedelta = timedelta(minutes=2)
    batch: int = 20
    slots: int = 4  # Graph: at most four requests in flight per mailbox
    idle_poll: float = 2.0
    slot_wait: float = 0.05
    # A change waits this long before it is sent, so that a burst of registrations becomes one request.
    settle_for: timedelta = timedelta(seconds=1)
    # Who skips the meeting's lobby, checked with each look at the responses ("off": left to Teams' policy).
    lobby: str = "invited"


class MeetingReconciler:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        calendar: Calendar,
        clock: Clock,
        catalogs: Catalogs,
        settings: ReconcilerSettings = ReconcilerSettings(),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._uow_factory = uow_factory
        self._calendar = calendar
        self._clock = clock
        self._catalogs = catalogs
        self._settings = settings
        self._jitter = jitter
        self._holder = uuid.uuid4().hex
        self._local_slots = asyncio.Semaphore(settings.slots)
        self._paused_until: datetime | None = None
        self._slots_ready = False
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        await run_batches(self.run_once, self._wake, stop, self._settings.idle_poll, "meeting sync")

    async def run_once(self) -> int:
        """Claims the meetings that are due and takes one step on each; returns how many."""
        now = self._clock.now()
        if self._paused_until is not None and now < self._paused_until:
            return 0
        async with self._uow_factory() as uow:
            if not self._slots_ready:
                await uow.graph_slots.ensure(self._calendar.mailbox, self._settings.slots)
                self._slots_ready = True
            claimed = await uow.meetings.claim(
                self._holder, now - self._settings.settle_for, now + self._settings.lease, self._settings.batch
            )
            await uow.commit()
        await asyncio.gather(*(self._step(meeting) for meeting in claimed))
        return len(claimed)

    async def _step(self, meeting: Meeting) -> None:
        due: datetime | None = None
        state: service.SyncState | None = None
        try:
            async with self._uow_factory() as uow:
                state = await service.state(meeting.session_id, uow)
            if state is None:
                await self._settle(meeting, None)
                return
            now = self._clock.now()
            step = meeting.next_step(state.session, now, self._settings.poll_every)
            if step is not None:
                meeting, due = await self._take(step, meeting, state)
                meeting = dataclasses.replace(meeting, attempts=0, retry_at=None, last_error="")
            else:
                # Nothing Graph can be told (cancelled before it had an event, ended, ...): the changes
                # marked so far are settled, or the meeting would stay due for ever.
                meeting = dataclasses.replace(
                    meeting, attendees_synced=meeting.attendees_version, details_synced=meeting.details_version
                )
            now = self._clock.now()
            if due is None:
                due = meeting.next_due(state.session, now, self._settings.poll_every)
            await self._settle(meeting, due)
        except CalendarError as error:
            assert state is not None  # only Graph raises it, and Graph is called after the state is read
            await self._failed(meeting, state, error)
        except Exception:
            log.exception("meeting sync of session id %d failed", meeting.session_id)
            now = self._clock.now()
            await self._settle(
                meeting.failed(now, backoff(meeting.attempts, None, self._jitter()), "internal error"), now
            )

    async def _take(self, step: Step, meeting: Meeting, state: service.SyncState) -> tuple[Meeting, datetime | None]:
        """Sends one step to Graph and records its outcome; returns the meeting as now known, and when to
        look again if the step decides that itself."""
        session, series = state.session, state.series
        t = self._catalogs.translator(series.language)
        calendar = self._calendar
        if step is Step.CREATE:
            wanted = desired_invitees(state.entries)
            async with self._slot():
                created = await calendar.create_event(
                    invitation(t, series, session), _invitees(wanted.invitees), meeting.transaction_id
                )
            if created.join_url is None:
                # Told once; `meeting N` starts again with a fresh transaction once the mailbox is fixed.
                await self._tell(meeting, state, service.NO_JOIN_URL)
                fresh = dataclasses.replace(meeting, transaction_id=str(uuid.uuid4()), problem=service.NO_JOIN_URL)
                return fresh, None
            async with self._uow_factory() as uow:
                await service.meeting_created(session.id, created, uow, self._clock.now())
                await uow.commit()
            log.info("Teams meeting created for session id %d", session.id)
            invited = created.invitees
            if invited != addresses(_invitees(wanted.invitees)):
                # A retried create (same transaction id) answers with the event first made, without those who
                # registered since: the difference is sent now rather than at the next change.
                async with self._slot():
                    invited = await calendar.set_attendees(created.event_id, _invitees(wanted.invitees))
            meeting = dataclasses.replace(
                meeting,
                event_id=created.event_id,
                attendees_synced=self._synced(meeting, invited, wanted.invitees),
                details_synced=meeting.details_version,
                problem="",
            )
            return await self._limits(meeting, state, wanted.left_out, len(wanted.invitees)), None
        event_id = meeting.event_id
        assert event_id is not None
        if step is Step.CANCEL:
            reason = session.cancel_reason or t.gettext("The session is cancelled")
            async with self._slot():
                await calendar.cancel_event(event_id, reason)
            return dataclasses.replace(meeting, cancelled=True, details_synced=meeting.details_version), None
        if step is Step.UPDATE:
            async with self._slot():
                await calendar.update_event(event_id, invitation(t, series, session))
            return dataclasses.replace(meeting, details_synced=meeting.details_version), None
        if step is Step.ATTENDEES:
            wanted = desired_invitees(state.entries)
            async with self._slot():
                invited = await calendar.set_attendees(event_id, _invitees(wanted.invitees))
            meeting = dataclasses.replace(meeting, attendees_synced=self._synced(meeting, invited, wanted.invitees))
            return await self._limits(meeting, state, wanted.left_out, len(wanted.invitees)), None
        if step is Step.RESPONSES:
            async with self._slot():
                responses = await calendar.responses(event_id)
            now = self._clock.now()
            gone = declined([(r.email, r.response, r.at) for r in responses], state.entries)
            if gone:
                reason = t.gettext("Declined the meeting invitation")
                async with self._uow_factory() as uow:
                    recorded = await service.record_declines(session.id, gone, reason, uow, now)
                    await uow.commit()
                log.info("%d declined invitations recorded as absences for session id %d", recorded, session.id)
            return await self._lobby(dataclasses.replace(meeting, responses_checked_at=now), state), None
        # Step.ATTENDANCE
        if not session.join_url:
            return dataclasses.replace(meeting, attendance=AttendanceState.UNAVAILABLE), None
        async with self._slot():
            attendees = await calendar.attendance(session.join_url)
        now = self._clock.now()
        if attendees is None:
            if now >= session.ends_at + ATTENDANCE_GIVE_UP:
                return dataclasses.replace(meeting, attendance=AttendanceState.UNAVAILABLE), None
            return meeting, now + ATTENDANCE_RETRY
        async with self._uow_factory() as uow:
            await service.record_attendance(session.id, attendees, uow)
            await uow.commit()
        return dataclasses.replace(meeting, attendance=AttendanceState.DONE), None

    async def _lobby(self, meeting: Meeting, state: service.SyncState) -> Meeting:
        """Sets who skips the lobby, and sets it again if an organiser changed it in Teams. A refusal does not
        hold up the rest of the meeting's sync: the organisers are told once what to grant."""
        join_url = state.session.join_url
        scope = self._settings.lobby
        if scope == "off" or not join_url:
            return meeting
        try:
            async with self._slot():
                changed = await self._calendar.admit(join_url, scope)
        except CalendarError as error:
            if error.transient or error.status not in (401, 403):
                log.warning("lobby of session id %d not set: %s", meeting.session_id, error)
                return meeting
            if meeting.problem != service.LOBBY_FORBIDDEN:
                await self._tell(meeting, state, service.LOBBY_FORBIDDEN, status=error.status, code=error.code)
            return dataclasses.replace(meeting, problem=service.LOBBY_FORBIDDEN)
        if changed:
            log.info("lobby of session id %d set to %s", meeting.session_id, scope)
        return dataclasses.replace(meeting, problem="") if meeting.problem == service.LOBBY_FORBIDDEN else meeting

    @staticmethod
    def _synced(meeting: Meeting, invited: frozenset[str], wanted: Sequence[Person]) -> int:
        """The attendee version Graph now holds, once what it reports after our PATCH is what we want;
        otherwise the sync is retried with backoff, like any failed call."""
        if invited != addresses(_invitees(wanted)):
            raise CalendarError(502, "InviteesDiffer")
        return meeting.attendees_version

    async def _limits(self, meeting: Meeting, state: service.SyncState, left_out: int, invited: int) -> Meeting:
        """Warns organisers as the invitee list nears Teams' limit of 500, and when people are left out."""
        if left_out and meeting.problem != service.OVER_LIMIT:
            await self._tell(meeting, state, service.OVER_LIMIT, left_out=left_out)
            return dataclasses.replace(meeting, problem=service.OVER_LIMIT)
        limit_told = meeting.problem in (service.NEAR_LIMIT, service.OVER_LIMIT)
        if not left_out and invited >= service.NEAR_LIMIT_AT and not limit_told:
            await self._tell(meeting, state, service.NEAR_LIMIT, invited=invited)
            return dataclasses.replace(meeting, problem=service.NEAR_LIMIT)
        return meeting

    async def _failed(self, meeting: Meeting, state: service.SyncState, error: CalendarError) -> None:
        now = self._clock.now()
        if error.status == 429:
            # Throttling is per mailbox: everything waits, not only this meeting.
            pause = timedelta(seconds=error.retry_after or backoff(meeting.attempts, None, 1.0).total_seconds())
            self._paused_until = now + pause
        if error.status == 404 and meeting.event_id is not None:
            if meeting.cancelled or state.session.status is SessionStatus.CANCELLED:
                await self._settle(dataclasses.replace(meeting, cancelled=True), None)
                return
            # Someone deleted the event in Outlook: make a new one (registrants get the new link).
            log.warning("the event of session id %d is gone from the mailbox; creating it again", meeting.session_id)
            fresh = dataclasses.replace(meeting, event_id=None, transaction_id=str(uuid.uuid4()))
            await self._settle(fresh, now)
            return
        if error.transient:
            delay = backoff(meeting.attempts, error.retry_after, self._jitter())
            log.warning(
                "Graph %s for session id %d; retrying in %.0f s", error, meeting.session_id, delay.total_seconds()
            )
            await self._settle(meeting.failed(now, delay, str(error)), now)
            return
        problem = {401: service.FORBIDDEN, 403: service.FORBIDDEN}.get(error.status, service.REJECTED)
        if error.status == 404:
            problem = service.MAILBOX_NOT_FOUND
        log.warning("Graph refused the meeting of session id %d: %s", meeting.session_id, error)
        if meeting.problem != problem:
            await self._tell(meeting, state, problem, status=error.status, code=error.code)
        failed = dataclasses.replace(meeting.failed(now, PERMANENT_RETRY, str(error)), problem=problem)
        await self._settle(failed, now)

    async def _tell(self, meeting: Meeting, state: service.SyncState, problem: str, **details: object) -> None:
        async with self._uow_factory() as uow:
            await service.tell_organisers(
                state.series, state.session, problem, uow, self._clock.now(), mailbox=self._calendar.mailbox, **details
            )
            await uow.commit()

    async def _settle(self, meeting: Meeting, due: datetime | None) -> None:
        async with self._uow_factory() as uow:
            kept = await uow.meetings.settle(meeting, self._holder, self._clock.now(), due)
            await uow.commit()
        if not kept:
            log.warning(
                "lost the lease on the meeting of session id %d; another instance carries on", meeting.session_id
            )

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """One of the mailbox's request slots: first this process's, then a database row shared by all."""
        async with self._local_slots:
            wait = self._settings.slot_wait
            while (slot := await self._take_slot()) is None:
                await asyncio.sleep(wait)  # other instances hold all four
                wait = min(wait * 2, 1.0)
            try:
                yield
            finally:
                async with self._uow_factory() as uow:
                    await uow.graph_slots.release(self._calendar.mailbox, slot, self._holder)
                    await uow.commit()

    async def _take_slot(self) -> int | None:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            slot = await uow.graph_slots.acquire(
                self._calendar.mailbox, self._holder, now, now + self._settings.lease, self._settings.slots
            )
            await uow.commit()
        return slot


def _invitees(people: Sequence[Person]) -> list[Invitee]:
    return [Invitee(p.email, p.name) for p in people]
