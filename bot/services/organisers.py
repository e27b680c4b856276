"""Organiser use cases: who may organise, sessions from form to cancellation, lists, exports, the audit log."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.conversation import ConversationKind
from bot.domain import errors, organising
from bot.domain.events import (
    Announcement,
    Cancellation,
    InvitationChanged,
    JoinLink,
    Message,
    OrganiserNote,
    SessionMoved,
)
from bot.domain.meetings import AttendanceRecord, AttendanceState, AttendanceSummary, MeetingMode
from bot.domain.model import Person, RegistrationStatus, Series, Session, SessionStatus, clean_text
from bot.domain.organising import Entry, ParticipantList, SessionForm
from bot.domain.views import AuditEntry, Feedback, SessionCounts, SuggestionPage, ThemeSuggestion
from bot.services.links import new_token, token_hash
from bot.services.participants import enrol_series_members, fill_freed_seats
from bot.services.ports import ExportGrant, UnitOfWork

EXPORT_LIFETIME = timedelta(hours=1)
AUDIT_PAGE = 15


@dataclass(frozen=True)
class OrganiserPolicy:
    """From the settings: organisers of every series, the channel where commands are taken, and the member
    organisations known by their Microsoft 365 tenant."""

    organiser_ids: frozenset[str] = frozenset()
    channel_id: str | None = None
    meetings: bool = False  # Graph creates the Teams meetings
    member_tenants: tuple[tuple[str, str], ...] = ()  # (tenant id, organisation)

    def organisation_of(self, tenant_id: str) -> str:
        """The organisation a tenant belongs to ("" when it is no member's): verified by Teams' sign-in."""
        tenant = tenant_id.lower()
        return next((name for member, name in self.member_tenants if member == tenant), "")

    def organises_every_series(self, person: Person) -> bool:
        """Named in the settings (`ORGANISER_IDS`): an organiser of every series, also one not made yet."""
        return person.key.aad_object_id.lower() in {a.lower() for a in self.organiser_ids}

    def vouches_for(self, person: Person) -> bool:
        """Whether the person's organisation is the one their tenant belongs to, not only chosen."""
        return bool(person.organisation) and self.organisation_of(person.key.tenant_id) == person.organisation


@dataclass(frozen=True)
class Organiser:
    """An organiser, checked, acting on one series."""

    person: Person
    series: Series


@dataclass(frozen=True)
class Where:
    conversation: ConversationKind
    channel_id: str | None


async def authorize(
    person: Person, where: Where, uow: UnitOfWork, policy: OrganiserPolicy, *, binding_channel: bool = False
) -> Organiser:
    """The organiser behind a command and the series it acts on: in a channel, the series whose organisers'
    channel it is; in a 1:1 chat, the one series the person organises. NotAnOrganiser, NotTheOrganiserChannel,
    or WhichSeries when a 1:1 chat can't say which of several."""
    everything = await uow.series.list_all()
    mine = await organised(person, everything, uow, policy)  # who asks comes first: a stranger hears only that
    if where.conversation is ConversationKind.GROUP:
        raise errors.NotTheOrganiserChannel()
    if where.conversation is ConversationKind.CHANNEL:
        mine_ids = {s.id for s in mine}
        bound = next((s for s in everything if s.organiser_channel_id == where.channel_id), None)
        if bound is not None:
            if bound.id not in mine_ids:
                raise errors.NotAnOrganiser()
            return Organiser(person, bound)
        # A channel no series has taken: the one being taken now, or the settings' one, which belongs to
        # the series that have not taken their own.
        if binding_channel:
            return Organiser(person, _one([s for s in mine if not s.organiser_channel_id] or mine))
        unbound = [s for s in everything if not s.organiser_channel_id]
        if not unbound or not policy.channel_id or policy.channel_id != where.channel_id:
            raise errors.NotTheOrganiserChannel()
        mine_unbound = [s for s in unbound if s.id in mine_ids]
        if not mine_unbound:
            raise errors.NotAnOrganiser()
        return Organiser(person, _one(mine_unbound))
    return Organiser(person, _one(mine))


async def organised(person: Person, everything: list[Series], uow: UnitOfWork, policy: OrganiserPolicy) -> list[Series]:
    """Of `everything`, the series the person organises: all of them for an organiser named in the settings;
    NotAnOrganiser when none."""
    if policy.organises_every_series(person):
        mine = everything
    else:
        ids = set(await uow.organisers.series_of(person.key.aad_object_id))
        mine = [s for s in everything if s.id in ids]
    if not mine:
        raise errors.NotAnOrganiser()
    return mine


def _one(series: list[Series]) -> Series:
    if len(series) > 1:
        raise errors.WhichSeries(tuple(s.title for s in series))
    return series[0]


async def note_channel(
    who: Organiser, where: Where, service_url: str, uow: UnitOfWork, policy: OrganiserPolicy
) -> Organiser:
    """Remembers how to post in the organisers' channel (for the digest); the channel's service URL can change."""
    channel = who.series.organiser_channel_id or policy.channel_id
    if where.channel_id is None or where.channel_id != channel:
        return who
    if who.series.organiser_service_url == service_url and who.series.organiser_channel_id == channel:
        return who
    series = dataclasses.replace(who.series, organiser_service_url=service_url, organiser_channel_id=channel)
    await uow.series.update(series)
    return Organiser(who.person, series)


def snapshot(session: Session) -> dict[str, Any]:
    """A session as the audit log keeps it."""
    return {
        "number": session.number,
        "title": session.title,
        "status": session.status.value,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "after_talk_ends_at": session.after_talk_ends_at.isoformat() if session.after_talk_ends_at else None,
        "registration_deadline": session.registration_deadline.isoformat(),
        "capacity": session.capacity,
        "place": session.place,
        "guest": session.guest,
        "join_url": session.join_url,
        "cancel_reason": session.cancel_reason or None,
        "programme": [dataclasses.asdict(p) for p in session.programme],
    }


async def record_audit(
    uow: UnitOfWork,
    who: Organiser,
    action: str,
    subject: str,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """An organiser's action in the series' audit log: who, what, when, before and after."""
    entry = AuditEntry(who.person.key.aad_object_id, who.person.name, action, subject, now, before, after)
    await uow.audit.add(who.series.id, entry)


async def _session(uow: UnitOfWork, who: Organiser, number: int, *, lock: bool = False) -> Session:
    session = await uow.sessions.by_number(who.series.id, number, lock=lock)
    if session is None:
        raise errors.UnknownSessionNumber(number)
    return session


async def create_session(form: SessionForm, who: Organiser, uow: UnitOfWork, zone: ZoneInfo, now: datetime) -> Session:
    fields = organising.validate_session_form(form, zone, now)
    number = await uow.sessions.next_number(who.series.id)
    draft = Session(
        id=0,
        series_id=who.series.id,
        number=number,
        title=fields.title,
        starts_at=fields.starts_at,
        ends_at=fields.ends_at,
        registration_deadline=fields.registration_deadline,
    )
    session = await uow.sessions.add(organising.apply_fields(draft, fields), now)
    await record_audit(uow, who, "create", f"session {number}", now, after=snapshot(session))
    return session


async def edit_session(
    number: int, form: SessionForm, who: Organiser, uow: UnitOfWork, zone: ZoneInfo, now: datetime
) -> Session:
    before = await _session(uow, who, number, lock=True)
    if before.status is SessionStatus.CANCELLED:
        raise errors.SessionCancelled(number)
    registered = (await uow.sessions.registered_counts([before.id])).get(before.id, 0)
    after = organising.apply_fields(before, organising.validate_session_form(form, zone, now, registered))
    if after == before:
        return before
    await uow.sessions.update(after, now)
    if after.capacity is None or (before.capacity is not None and after.capacity > before.capacity):
        await fill_freed_seats(after, uow, now)
    if before.status is SessionStatus.PUBLISHED and organising.time_changed(before, after):
        await _tell_registrants(uow, after, lambda pid: SessionMoved(pid, after.id, at=now), now)
    if organising.invitation_changed(before, after):
        await uow.record(now, InvitationChanged(after.id))
    await record_audit(uow, who, "edit", f"session {number}", now, snapshot(before), snapshot(after))
    return after


@dataclass(frozen=True)
class Published:
    session: Session
    announced: int  # earlier participants told of it
    enrolled: int  # registered for the whole series: given a place, or one on the waiting list


async def publish_session(number: int, who: Organiser, uow: UnitOfWork, now: datetime) -> Published:
    """Publishes, registers those registered for the whole series, and queues an announcement to everyone else
    who has taken part in the series before."""
    before = await _session(uow, who, number, lock=True)
    if before.status is SessionStatus.PUBLISHED:
        return Published(before, 0, 0)
    after = organising.publish(before, now)
    await uow.sessions.update(after, now)
    await uow.meetings.follow(after.id, MeetingMode.MANUAL if after.join_url else MeetingMode.GRAPH, now)
    enrolled = await enrol_series_members(after, uow, now)
    earlier = set(await uow.registrations.series_participants(who.series.id))
    if len(await uow.series.list_all()) == 1:
        # One series in this deployment: everyone who has used the bot belongs to it.
        earlier |= set(await uow.people.with_chat())
    earlier -= enrolled  # their confirmation tells them
    # Opted-out people are skipped again at send time, in case they opt out while the row waits.
    await uow.record(now, *(Announcement(pid, after.id) for pid in sorted(earlier)))
    await record_audit(uow, who, "publish", f"session {number}", now, snapshot(before), snapshot(after))
    return Published(after, len(earlier), len(enrolled))


async def cancel_session(
    number: int, reason: str, who: Organiser, uow: UnitOfWork, now: datetime
) -> tuple[Session, int]:
    before = await _session(uow, who, number, lock=True)
    after = organising.cancel(before, reason, now)
    await uow.sessions.update(after, now)
    await uow.record(now, InvitationChanged(after.id))  # the reconciler cancels the event with the reason
    reason = after.cancel_reason or ""
    told = await _tell_registrants(uow, after, lambda pid: Cancellation(pid, after.id, reason), now, waitlist=True)
    await record_audit(uow, who, "cancel", f"session {number}", now, snapshot(before), snapshot(after))
    return after, told


async def set_link(number: int, url: str, who: Organiser, uow: UnitOfWork, now: datetime) -> tuple[Session, int]:
    url = organising.validate_meeting_url(url)
    before = await _session(uow, who, number, lock=True)
    if before.status is SessionStatus.CANCELLED:
        raise errors.SessionCancelled(number)
    if before.join_url == url:
        return before, 0
    after = dataclasses.replace(before, join_url=url)
    await uow.sessions.update(after, now)
    # A link set by hand wins: the bot stops keeping a Graph event for this session.
    await uow.meetings.follow(after.id, MeetingMode.MANUAL, now)
    told = await send_link(after, uow, now)
    await record_audit(uow, who, "link", f"session {number}", now, {"join_url": before.join_url}, {"join_url": url})
    return after, told


async def request_meeting(number: int, who: Organiser, uow: UnitOfWork, now: datetime) -> Session:
    """`meeting N`: Graph (again) keeps this session's meeting, replacing a link set by hand."""
    session = await _session(uow, who, number)
    if session.status is SessionStatus.CANCELLED:
        raise errors.SessionCancelled(number)
    if session.status is not SessionStatus.PUBLISHED:
        raise errors.SessionNotPublished(number)
    await uow.meetings.follow(session.id, MeetingMode.GRAPH, now)
    await record_audit(uow, who, "meeting", f"session {number}", now)
    return session


async def send_link(session: Session, uow: UnitOfWork, now: datetime) -> int:
    """Queues the session's meeting link to everyone registered, once per link; returns how many."""
    if session.status is not SessionStatus.PUBLISHED or not session.join_url:
        return 0
    digest = hashlib.sha256(session.join_url.encode()).hexdigest()[:16]
    return await _tell_registrants(uow, session, lambda pid: JoinLink(pid, session.id, digest), now)


async def message_registrants(
    number: int, text: str, who: Organiser, uow: UnitOfWork, now: datetime, message_id: str
) -> tuple[Session, int]:
    text = text.strip()[:2000]
    if not clean_text(text):
        raise errors.NothingToSend()
    session = await _session(uow, who, number)
    sender = who.person.name
    note = lambda pid: OrganiserNote(pid, session.id, message_id, sender, text)  # noqa: E731
    told = await _tell_registrants(uow, session, note, now)
    await record_audit(uow, who, "message", f"session {number}", now, after={"text": text, "recipients": told})
    return session, told


async def _tell_registrants(
    uow: UnitOfWork, session: Session, message: Callable[[int], Message], now: datetime, *, waitlist: bool = False
) -> int:
    """Records one message per registered (and, if asked, waitlisted) person; returns how many."""
    statuses = {RegistrationStatus.REGISTERED} | ({RegistrationStatus.WAITLISTED} if waitlist else set())
    people = [p.id for p, r in await uow.registrations.entries(session.id) if r.status in statuses]
    await uow.record(now, *(message(pid) for pid in people))
    return len(people)


async def feedback(number: int, who: Organiser, uow: UnitOfWork) -> tuple[Session, list[Feedback]]:
    """The answers to "how was it?", without names: people answer more freely."""
    session = await _session(uow, who, number)
    return session, await uow.feedback.for_session(session.id)


SUGGESTIONS_PAGE = 8  # eight of the longest, in UTF-8, stay within the 28 KB Teams takes a message


async def suggestions(page: int, who: Organiser, uow: UnitOfWork) -> SuggestionPage:
    """The themes and questions participants would like coming sessions to take up, newest first, with
    who suggested them, so that organisers can ask them to say more or to take part in shaping a session.
    A page beyond the last (the list is older than the card) shows the last."""
    total = await uow.suggestions.count(who.series.id)
    pages = max((total + SUGGESTIONS_PAGE - 1) // SUGGESTIONS_PAGE, 1)
    page = min(page, pages - 1)
    found = await uow.suggestions.newest(who.series.id, SUGGESTIONS_PAGE, page * SUGGESTIONS_PAGE) if total else []
    return SuggestionPage(total, page, pages, tuple(found))


async def participants(number: int, who: Organiser, uow: UnitOfWork) -> tuple[Session, ParticipantList]:
    session = await _session(uow, who, number)
    entries = [Entry(p, r) for p, r in await uow.registrations.entries(session.id)]
    return session, ParticipantList.of(entries, (await _attendance(uow, [session])).get(session.id))


async def _attendance(uow: UnitOfWork, sessions: list[Session]) -> dict[int, list[AttendanceRecord]]:
    """Attendance of the sessions whose Teams report has been read."""
    ids = [s.id for s in sessions]
    read = [i for i, m in (await uow.meetings.for_sessions(ids)).items() if m.attendance is AttendanceState.DONE]
    records = await uow.attendance.for_sessions(read)
    return {i: records.get(i, []) for i in read}


@dataclass(frozen=True)
class Stats:
    sessions: tuple[tuple[Session, SessionCounts], ...]
    per_organisation: tuple[tuple[str, int], ...]
    attendance: dict[int, AttendanceSummary] = dataclasses.field(default_factory=dict)
    whole_series: int = 0  # people registered for the whole series


async def stats(who: Organiser, uow: UnitOfWork) -> Stats:
    sessions = await uow.sessions.list_for_series(who.series.id)
    counts = await uow.sessions.counts(who.series.id)
    summaries = {}
    for session_id, records in (await _attendance(uow, sessions)).items():
        registered = [p.id for p, r in await uow.registrations.entries(session_id) if r.holds_seat]
        summaries[session_id] = AttendanceSummary.of(registered, records)
    return Stats(
        tuple((s, counts.get(s.id, SessionCounts())) for s in sessions),
        tuple(await uow.registrations.per_organisation(who.series.id)),
        summaries,
        len(await uow.series_registrations.members(who.series.id)),
    )


async def audit_log(who: Organiser, uow: UnitOfWork) -> list[AuditEntry]:
    return await uow.audit.latest(who.series.id, AUDIT_PAGE)


async def organisers(who: Organiser, uow: UnitOfWork, policy: OrganiserPolicy) -> list[tuple[str, str]]:
    """(object id, name) of everyone who may organise: the name they have here, or the one Teams showed
    when they were added by @mention, or "" for an id nobody has named."""
    ids = list(dict.fromkeys([*sorted(policy.organiser_ids), *await uow.organisers.list(who.series.id)]))
    known = {p.key.aad_object_id: p.name for p in await uow.people.by_aad_ids(who.person.key.tenant_id, ids)}
    named = await uow.organisers.names(who.series.id)
    return [(aad, known.get(aad) or named.get(aad, "")) for aad in ids]


async def add_organiser(aad_object_id: str, who: Organiser, uow: UnitOfWork, now: datetime, name: str = "") -> bool:
    aad_object_id = validate_object_id(aad_object_id)
    name = clean_text(name, 200)
    added = await uow.organisers.add(who.series.id, aad_object_id, who.person.key.aad_object_id, now, name)
    if added:
        await record_audit(uow, who, "add_organiser", aad_object_id, now)
    return added


async def remove_organiser(
    aad_object_id: str, who: Organiser, uow: UnitOfWork, policy: OrganiserPolicy, now: datetime
) -> bool:
    aad_object_id = validate_object_id(aad_object_id)
    remaining = (policy.organiser_ids | set(await uow.organisers.list(who.series.id))) - {aad_object_id}
    if not remaining:
        raise errors.LastOrganiser()
    removed = await uow.organisers.remove(who.series.id, aad_object_id)
    if removed:
        await record_audit(uow, who, "remove_organiser", aad_object_id, now)
    return removed


def validate_object_id(value: str) -> str:
    """An Entra object id: a GUID (leniently: hex and hyphens, as test tenants' ids are not always exact)."""
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f-]{23,31}", value):
        raise errors.InvalidInput()
    return value


async def bind_channel(channel_id: str, service_url: str, who: Organiser, uow: UnitOfWork, now: datetime) -> Series:
    before = who.series.organiser_channel_id
    series = dataclasses.replace(who.series, organiser_channel_id=channel_id, organiser_service_url=service_url or None)
    await uow.series.update(series)
    await record_audit(uow, who, "bind_channel", series.slug, now, {"channel": before}, {"channel": channel_id})
    return series


@dataclass(frozen=True)
class Export:
    token: str
    session: Session | None  # None: the whole series


async def create_export(number: int | None, who: Organiser, uow: UnitOfWork, now: datetime) -> Export:
    """A random download token; only its hash is stored, and it expires."""
    session = await _session(uow, who, number) if number is not None else None
    token = new_token()
    grant = ExportGrant(who.series.id, session.id if session else None, now + EXPORT_LIFETIME)
    await uow.exports.add(token_hash(token), grant, who.person.key.aad_object_id, now)
    await record_audit(uow, who, "export", f"session {number}" if number else who.series.slug, now)
    return Export(token, session)


@dataclass(frozen=True)
class ExportData:
    series: Series
    rows: tuple[tuple[Session, Person, Any], ...]
    suggestions: tuple[ThemeSuggestion, ...] = ()  # the whole series' export only
    session: Session | None = None  # the one session exported, or None for the whole series
    # The whole series only: its sessions and their figures, counted as the organisers' statistics count them.
    sessions: tuple[Session, ...] = ()
    counts: Mapping[int, SessionCounts] = dataclasses.field(default_factory=dict)
    per_organisation: tuple[tuple[str, int], ...] = ()

    def file_name(self, today: date) -> str:
        part = f"-{self.session.number}" if self.session else ""
        return f"{self.series.slug}{part}-{today.isoformat()}.xlsx"


async def export_data(token: str, uow: UnitOfWork, now: datetime) -> ExportData:
    grant = await uow.exports.get(token_hash(token)) if token else None
    if grant is None or grant.expires_at <= now:
        raise errors.ExportExpired()
    series = await uow.series.get(grant.series_id)
    if series is None:
        raise errors.ExportExpired()
    sessions = [s for s in await uow.sessions.list_for_series(series.id) if grant.session_id in (None, s.id)]
    rows: list[tuple[Session, Person, Any]] = []
    for session in sessions:
        rows.extend((session, p, r) for p, r in await uow.registrations.entries(session.id))
    suggestions = await uow.suggestions.newest(series.id) if grant.session_id is None else []  # the series' only
    if grant.session_id is not None:
        return ExportData(series, tuple(rows), (), sessions[0] if sessions else None)
    counts = await uow.sessions.counts(series.id)
    places = tuple(await uow.registrations.per_organisation(series.id))
    return ExportData(series, tuple(rows), tuple(suggestions), None, tuple(sessions), counts, places)
