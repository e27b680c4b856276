"""Participant use cases: browse, register, report absence, withdraw, choose a language, suggest themes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.conversation import Actor
from bot.domain import errors
from bot.domain.events import SeatsChanged
from bot.domain.model import (
    Language,
    Person,
    Registration,
    RegistrationStatus,
    Series,
    Session,
    SessionStanding,
    SessionStatus,
    clean_text,
    decide_registration,
    decide_series_registration,
    promotions,
    validate_profile,
    validate_suggestion,
)
from bot.domain.views import Feedback
from bot.services.ports import Clock, UnitOfWork


@dataclass(frozen=True)
class Overview:
    person: Person
    series: tuple[Series, ...]
    standings: tuple[SessionStanding, ...]
    in_series: frozenset[int]  # the series the person is registered for as a whole


@dataclass(frozen=True)
class Register:
    person_id: int
    session_id: int
    after_talk: bool
    organisation: str | None = None  # given on the first registration only
    role: str | None = None
    email: str | None = None  # from Teams, looked up with the first registration
    verified_organisation: str = ""  # a member organisation's tenant: where they work, not asked


@dataclass(frozen=True)
class ReportAbsence:
    person_id: int
    session_id: int
    reason: str


@dataclass(frozen=True)
class Withdraw:
    person_id: int
    session_id: int


@dataclass(frozen=True)
class Registered:
    person: Person
    series: Series
    standing: SessionStanding
    changed: bool


@dataclass(frozen=True)
class ProfileNeeded:
    """The person must say which organisation they come from and their role before registering."""

    person: Person
    series: Series
    session: Session
    after_talk: bool


async def identify(actor: Actor, uow: UnitOfWork, now: datetime) -> Person:
    return await uow.people.seen(actor.key, actor.name, actor.teams_locale, now, actor.reach)


async def arrive(
    activity_id: str, actor: Actor, uow: UnitOfWork, now: datetime, *, lock_session: int | None = None
) -> tuple[bool, Person]:
    """Whether this is the activity's first delivery, and who sent it; `lock_session` is the session
    the turn will decide on (a registration), locked with the same statement where the database can."""
    return await uow.activities.arrive(
        activity_id, actor.key, actor.name, actor.teams_locale, now, actor.reach, lock_session=lock_session
    )


async def complete_email(person_id: int, email: str, uow: UnitOfWork, now: datetime) -> bool:
    """The e-mail Teams gave after the person's first registration went without it (Teams was busy or did not
    say): kept, and the meetings of the sessions they hold a seat in are told to invite them (the reconciler
    leaves the meetings of sessions that have ended as they are)."""
    person = await uow.people.get(person_id)
    email = clean_text(email, 320)
    if person is None or person.email or not email:
        return False
    await uow.people.save(replace(person, email=email), now)
    seats = [r.session_id for r in await uow.registrations.for_person(person_id) if r.holds_seat]
    await uow.record(now, *(SeatsChanged(session_id) for session_id in seats))
    return True


async def series_language(uow: UnitOfWork, default: Language) -> Language:
    """The language of the series, when they all speak one; else the deployment's default."""
    languages = {s.language for s in await uow.series.list_all()}
    return languages.pop() if len(languages) == 1 else default


async def overview(person: Person, uow: UnitOfWork, now: datetime) -> Overview:
    standings = await _visible_standings(person, uow, now)
    in_series = await uow.series_registrations.of_person(person.id)
    return Overview(person, tuple(await uow.series.list_all()), tuple(standings), in_series)


async def in_series(person: Person, series_id: int, uow: UnitOfWork) -> bool:
    """Whether the person is registered for the whole series."""
    return series_id in await uow.series_registrations.of_person(person.id)


async def my_registrations(person: Person, uow: UnitOfWork, now: datetime) -> list[SessionStanding]:
    """The person's places in sessions that have not ended: registered, queued or absent."""
    return [
        s
        for s in await _visible_standings(person, uow, now)
        if s.registration is not None and s.registration.status is not RegistrationStatus.WITHDRAWN
    ]


async def _visible_standings(person: Person, uow: UnitOfWork, now: datetime) -> list[SessionStanding]:
    return [
        SessionStanding(session, registration, registered, await _waitlist_position(registration, uow))
        for session, registration, registered in await uow.sessions.visible_for(person.id, now)
    ]


async def _waitlist_position(registration: Registration | None, uow: UnitOfWork) -> int | None:
    if registration is None or registration.status is not RegistrationStatus.WAITLISTED:
        return None
    return await uow.registrations.waitlist_position(registration)


async def standing(person: Person, session_id: int, uow: UnitOfWork, now: datetime) -> tuple[Series, SessionStanding]:
    session = await _visible_session(session_id, uow, now)
    (result,) = await _standings(person, [session], uow)
    return await _series_of(session, uow), result


async def register(
    cmd: Register, person: Person, uow: UnitOfWork, now: datetime, clock: Clock | None = None
) -> Registered | ProfileNeeded:
    found = await uow.sessions.standing(cmd.session_id, person.id, lock=True)
    session, existing, registered = found if found else (None, None, 0)
    session = _visible(session)
    # Read the time again once the session is locked: places are decided in lock order, and the
    # waiting list's order (by time) must be that order too.
    now = clock.now() if clock is not None else now
    series = await _series_of(session, uow)
    person = await _with_profile(cmd, person, series, uow, now)
    if not person.has_profile and (existing is None or not existing.is_active):
        session.check_open_for_registration(now)
        return ProfileNeeded(person, series, session, cmd.after_talk)
    decision = decide_registration(session, existing, registered, person.id, cmd.after_talk, now)
    registration = decision.registration
    if decision.changed:
        # The registration is written last (with its events): the database may send the writes before it
        # in the same statement, which shortens the time the session's row stays locked while others wait.
        if registration.holds_seat and (existing is None or not existing.is_active):
            registered += 1
        registration = await uow.registrations.save(registration)
    if registration.status is RegistrationStatus.WAITLISTED:
        (result,) = await _standings(person, [session], uow, known={session.id: registration})
    else:
        result = SessionStanding(session, registration, registered)
    return Registered(person, series, result, decision.changed)


async def _with_profile(
    cmd: Register | RegisterSeries, person: Person, series: Series, uow: UnitOfWork, now: datetime
) -> Person:
    """The person with the organisation and role the form gave, checked against the series' choices."""
    if cmd.organisation is not None or cmd.role is not None:
        organisation = cmd.verified_organisation or cmd.organisation or ""
        profile = validate_profile(organisation, cmd.role or "", series.organisations)
        person = person.with_profile(profile.organisation, profile.role)
        if cmd.email and not person.email:
            person = replace(person, email=clean_text(cmd.email, 320))
        await uow.people.save(person, now)
    elif cmd.verified_organisation and person.organisation != cmd.verified_organisation:
        # The tenant wins over what was chosen before the member organisations were configured.
        person = person.with_profile(cmd.verified_organisation, person.role)
        await uow.people.save(person, now)
    return person


@dataclass(frozen=True)
class RegisterSeries:
    person_id: int
    series_id: int
    organisation: str | None = None  # given on the first registration only
    role: str | None = None
    email: str | None = None
    verified_organisation: str = ""


@dataclass(frozen=True)
class SeriesStanding:
    """A person and a whole series: whether they are registered for all of it, and their place in each coming
    session."""

    person: Person
    series: Series
    registered: bool
    standings: tuple[SessionStanding, ...]


@dataclass(frozen=True)
class SeriesProfileNeeded:
    person: Person
    series: Series


async def register_series(
    cmd: RegisterSeries, person: Person, uow: UnitOfWork, now: datetime, clock: Clock | None = None
) -> SeriesStanding | SeriesProfileNeeded:
    """Registers the person for every session of the series open for registration (the waiting list where
    full) and for each one published later. A session they said they can't come to stays so."""
    series = await _series(cmd.series_id, uow)
    person = await _with_profile(cmd, person, series, uow, now)
    if not person.has_profile:
        return SeriesProfileNeeded(person, series)
    await uow.series_registrations.add(series.id, person.id, now)
    # Sessions are locked in id order, the same order in every transaction that locks more than one.
    for candidate in sorted(await uow.sessions.list_for_series(series.id), key=lambda s: s.id):
        if not candidate.registration_open(now):
            continue
        found = await uow.sessions.standing(candidate.id, person.id, lock=True)
        if found is None:
            continue
        session, existing, registered = found
        # Places are decided in lock order: the time is read again once the session is locked.
        decided = decide_series_registration(
            session, existing, registered, person.id, clock.now() if clock else now, tell=False
        )
        if decided is not None:
            await uow.registrations.save(decided)
    return await _series_standing(person, series, True, uow, now)


async def leave_series(person: Person, series_id: int, uow: UnitOfWork, now: datetime) -> SeriesStanding:
    """Sessions published from now on no longer register them; places already held stay theirs."""
    series = await _series(series_id, uow)
    await uow.series_registrations.remove(series.id, person.id)
    return await _series_standing(person, series, False, uow, now)


async def series_standing(person: Person, series_id: int, uow: UnitOfWork, now: datetime) -> SeriesStanding:
    series = await _series(series_id, uow)
    return await _series_standing(person, series, await in_series(person, series.id, uow), uow, now)


async def _series(series_id: int, uow: UnitOfWork) -> Series:
    series = await uow.series.get(series_id)
    if series is None:  # a tampered or stale card: nothing is changed
        raise errors.InvalidInput()
    return series


async def _series_standing(
    person: Person, series: Series, registered: bool, uow: UnitOfWork, now: datetime
) -> SeriesStanding:
    coming = sorted(
        (s for s in await uow.sessions.list_for_series(series.id) if s.is_visible_to_participants(now)),
        key=lambda s: (s.starts_at, s.number),
    )
    return SeriesStanding(person, series, registered, tuple(await _standings(person, coming, uow)))


async def enrol_series_members(session: Session, uow: UnitOfWork, now: datetime) -> set[int]:
    """A session just published (its row locked): everyone registered for the whole series gets a place, or
    one on the waiting list, first registered for the series first, and a confirmation that says why."""
    members = await uow.series_registrations.members(session.series_id)
    if not members:
        return set()
    registered = (await uow.sessions.registered_counts([session.id])).get(session.id, 0)
    enrolled: set[int] = set()
    for person_id in members:
        existing = await uow.registrations.get(session.id, person_id)
        decided = decide_series_registration(session, existing, registered, person_id, now, tell=True)
        if decided is None:
            continue
        saved = await uow.registrations.save(decided)
        registered += saved.holds_seat
        enrolled.add(person_id)
    return enrolled


async def report_absence(
    cmd: ReportAbsence, person: Person, uow: UnitOfWork, now: datetime
) -> tuple[Series, SessionStanding]:
    reason = clean_text(cmd.reason)
    return await _leave(cmd.session_id, person, uow, now, lambda r: r.absent(reason, now))


async def withdraw(cmd: Withdraw, person: Person, uow: UnitOfWork, now: datetime) -> tuple[Series, SessionStanding]:
    return await _leave(cmd.session_id, person, uow, now, lambda r: r.withdrawn(now))


async def set_language(person: Person, language: Language, uow: UnitOfWork, now: datetime) -> Person:
    updated = replace(person, language=language)
    await uow.people.save(updated, now)
    return updated


async def _leave(
    session_id: int, person: Person, uow: UnitOfWork, now: datetime, change: Callable[[Registration], Registration]
) -> tuple[Series, SessionStanding]:
    session = await _visible_session(session_id, uow, now, lock=True)
    session.check_changeable(now)
    existing = await uow.registrations.get(session.id, person.id)
    if existing is None:
        raise errors.NotRegistered()
    updated = change(existing)
    if updated != existing:
        updated = await uow.registrations.save(updated)
        if existing.holds_seat:
            await fill_freed_seats(session, uow, now)
    (result,) = await _standings(person, [session], uow, known={session.id: updated})
    return await _series_of(session, uow), result


async def fill_freed_seats(session: Session, uow: UnitOfWork, now: datetime) -> list[Registration]:
    """Moves people up from the waiting list into free seats, and tells them."""
    counts = await uow.sessions.registered_counts([session.id])
    promoted = promotions(session, counts.get(session.id, 0), await uow.registrations.waitlist(session.id), now)
    return [await uow.registrations.save(r) for r in promoted]


async def standing_of(person: Person, session: Session, uow: UnitOfWork) -> SessionStanding:
    (result,) = await _standings(person, [session], uow)
    return result


async def set_announcements(person: Person, wanted: bool, uow: UnitOfWork, now: datetime) -> Person:
    updated = replace(person, announcements_opt_out=not wanted)
    await uow.people.save(updated, now)
    return updated


@dataclass(frozen=True)
class GiveFeedback:
    session_id: int
    rating: int
    comment: str


async def give_feedback(cmd: GiveFeedback, person: Person, uow: UnitOfWork, now: datetime) -> None:
    """Only those who were registered for a session that has ended may rate it; a second answer replaces the first."""
    session = await uow.sessions.get(cmd.session_id)
    registration = await uow.registrations.get(cmd.session_id, person.id) if session else None
    if session is None or registration is None or registration.status is not RegistrationStatus.REGISTERED:
        raise errors.NotRegistered()
    if now < session.starts_at:
        raise errors.InvalidInput()
    await uow.feedback.save(session.id, person.id, Feedback(cmd.rating, clean_text(cmd.comment, 2000)), now)


@dataclass(frozen=True)
class SuggestTheme:
    text: str
    series_id: int | None = None  # chosen on the form when the person takes part in several series


async def suggest_theme(cmd: SuggestTheme, person: Person, uow: UnitOfWork, now: datetime) -> bool:
    """Keeps a theme or question for the organisers of the series ("Lärträffarnas teman och innehåll
    medskapas av de som deltar"); False when nothing was written, so there was nothing to keep."""
    text = validate_suggestion(cmd.text)
    if not text:
        return False
    await uow.suggestions.add(await _suggestion_series(cmd.series_id, person, uow), person.id, text, now)
    return True


async def _suggestion_series(chosen: int | None, person: Person, uow: UnitOfWork) -> int:
    """The series a suggestion is for: the one chosen on the form, else the one the person last registered for,
    else the only one there is; WhichSeries when that leaves several."""
    all_series = {s.id: s for s in await uow.series.list_all()}
    if chosen is not None:
        if chosen not in all_series:
            raise errors.InvalidInput()
        return chosen
    latest = max(await uow.registrations.for_person(person.id), key=lambda r: r.created_at, default=None)
    if latest is not None:
        session = await uow.sessions.get(latest.session_id)
        if session is not None:
            return session.series_id
    if len(all_series) != 1:
        if not all_series:
            raise errors.InvalidInput()
        raise errors.WhichSeries(tuple(s.title for s in all_series.values()))
    return next(iter(all_series))


async def _visible_session(session_id: int, uow: UnitOfWork, now: datetime, *, lock: bool = False) -> Session:
    return _visible(await uow.sessions.get(session_id, lock=lock))


def _visible(session: Session | None) -> Session:
    """Participants don't see drafts: a draft's id answers as an unknown session does."""
    if session is None or session.status is SessionStatus.DRAFT:
        raise errors.SessionNotFound()
    return session


async def _series_of(session: Session, uow: UnitOfWork) -> Series:
    series = await uow.series.get(session.series_id)
    if series is None:  # the foreign key makes this impossible short of a corrupt database
        raise errors.SessionNotFound()
    return series


async def _standings(
    person: Person,
    sessions: Sequence[Session],
    uow: UnitOfWork,
    known: dict[int, Registration] | None = None,
) -> list[SessionStanding]:
    if not sessions:
        return []
    if known is None:
        ids = {s.id for s in sessions}
        known = {r.session_id: r for r in await uow.registrations.for_person(person.id) if r.session_id in ids}
    counts = await uow.sessions.registered_counts([s.id for s in sessions])
    result = []
    for session in sessions:
        registration = known.get(session.id)
        position = await _waitlist_position(registration, uow)
        result.append(SessionStanding(session, registration, counts.get(session.id, 0), position))
    return result
