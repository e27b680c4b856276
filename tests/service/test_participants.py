"""Participant use cases on the real unit of work over in-process SQLite; the clock is passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import datafile
from bot.domain import errors
from bot.domain.model import Person, PersonKey, RegistrationStatus, Session, SessionStatus
from bot.services import participants as svc
from bot.services.series_admin import import_series
from bot.storage import tables as t
from bot.storage.uow import SqlUnitOfWork
from tests.conftest import DEMO_DATA
from tests.service.conftest import import_demo

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def _registrations(uow: SqlUnitOfWork) -> list[Any]:
    r = t.registrations
    return list(await uow.connection.execute(select(r.c.person_id, r.c.status).order_by(r.c.id)))


async def _session(uow: SqlUnitOfWork, session_id: int) -> Session:
    session = await uow.sessions.get(session_id)
    assert session is not None
    return session


async def _person(uow: SqlUnitOfWork, n: int, *, profile: bool = True) -> Person:
    person = await uow.people.seen(PersonKey("tenant", f"aad-{n}"), f"Person {n}", "sv-SE", NOW)
    if profile:
        person = person.with_profile("Kiruna kommun", "Strateg")
        await uow.people.save(person, NOW)
    return person


async def _register(uow: SqlUnitOfWork, person: Person, session_id: int = 1, now: datetime = NOW) -> svc.Registered:
    outcome = await svc.register(svc.Register(person.id, session_id, after_talk=True), person, uow, now)
    assert isinstance(outcome, svc.Registered)
    return outcome


async def test_first_registration_asks_for_profile_and_changes_nothing(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _person(uow, 1, profile=False)
    outcome = await svc.register(svc.Register(person.id, 1, after_talk=True), person, uow, NOW)
    assert isinstance(outcome, svc.ProfileNeeded)
    assert await _registrations(uow) == []


async def test_profile_given_with_registration_is_remembered_and_matched_to_the_list(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _person(uow, 1, profile=False)
    command = svc.Register(person.id, 1, after_talk=False, organisation="  luleå KOMMUN ", role=" Chef\n")
    outcome = await svc.register(command, person, uow, NOW)
    assert isinstance(outcome, svc.Registered)
    stored = await uow.people.get(person.id)
    assert stored is not None
    assert (stored.organisation, stored.role) == ("Luleå kommun", "Chef")


async def test_incomplete_profile_is_refused(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _person(uow, 1, profile=False)
    with pytest.raises(errors.ProfileIncomplete) as raised:
        await svc.register(svc.Register(person.id, 1, True, organisation="Kiruna kommun", role="  "), person, uow, NOW)
    assert raised.value.missing == ("role",)
    assert await _registrations(uow) == []


async def test_full_session_queues_and_seats_free_in_arrival_order(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW, capacity=2)
    people = [await _person(uow, n) for n in range(5)]
    statuses = []
    for i, person in enumerate(people):
        outcome = await _register(uow, person, now=NOW + timedelta(seconds=i))
        statuses.append(outcome.standing.registration.status if outcome.standing.registration else None)
    assert statuses == [RegistrationStatus.REGISTERED] * 2 + [RegistrationStatus.WAITLISTED] * 3
    assert (await _register(uow, people[4])).standing.waitlist_position == 3

    later = NOW + timedelta(hours=1)
    await svc.withdraw(svc.Withdraw(people[0].id, 1), people[0], uow, later)
    await svc.report_absence(svc.ReportAbsence(people[1].id, 1, "Sjuk"), people[1], uow, later)
    by_person = {r.person_id: r.status for r in await _registrations(uow)}
    assert [by_person[p.id] for p in people] == [
        RegistrationStatus.WITHDRAWN,
        RegistrationStatus.ABSENT,
        RegistrationStatus.REGISTERED,
        RegistrationStatus.REGISTERED,
        RegistrationStatus.WAITLISTED,
    ]


async def test_leaving_the_waiting_list_promotes_nobody(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW, capacity=1)
    a, b, c = [await _person(uow, n) for n in range(3)]
    for i, p in enumerate((a, b, c)):
        await _register(uow, p, now=NOW + timedelta(seconds=i))
    await svc.withdraw(svc.Withdraw(b.id, 1), b, uow, NOW)
    statuses = {r.person_id: r.status for r in await _registrations(uow)}
    assert statuses == {
        a.id: RegistrationStatus.REGISTERED,
        b.id: RegistrationStatus.WITHDRAWN,
        c.id: RegistrationStatus.WAITLISTED,
    }
    _, standing = await svc.standing(c, 1, uow, NOW)
    assert standing.waitlist_position == 1


async def test_repeated_register_changes_nothing(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _person(uow, 1)
    first = await _register(uow, person)
    second = await _register(uow, person)
    assert first.changed
    assert not second.changed
    assert len(await _registrations(uow)) == 1


async def test_registration_closes_after_the_deadline(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _person(uow, 1)
    deadline = (await _session(uow, 1)).registration_deadline
    await _register(uow, person, now=deadline)  # the last minute still counts
    late = await _person(uow, 2)
    with pytest.raises(errors.RegistrationClosed):
        await svc.register(svc.Register(late.id, 1, True), late, uow, deadline + timedelta(minutes=1))


async def test_absence_is_possible_after_the_deadline_until_the_session_ends(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _person(uow, 1)
    await _register(uow, person)
    session = await _session(uow, 1)
    _, standing = await svc.report_absence(
        svc.ReportAbsence(person.id, 1, "  Krock\x00 med\tmöte "), person, uow, session.starts_at + timedelta(minutes=5)
    )
    assert standing.registration is not None
    assert standing.registration.absence_reason == "Krock med möte"
    with pytest.raises(errors.SessionAlreadyOver):
        await svc.withdraw(svc.Withdraw(person.id, 1), person, uow, session.ends_at)


async def test_cancelled_and_draft_sessions_refuse_registration(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _person(uow, 1)
    await uow.sessions.update(replace(await _session(uow, 1), status=SessionStatus.CANCELLED), NOW)
    with pytest.raises(errors.SessionCancelled):
        await svc.register(svc.Register(person.id, 1, True), person, uow, NOW)
    with pytest.raises(errors.SessionNotFound):  # session 3 is a draft
        await svc.register(svc.Register(person.id, 3, True), person, uow, NOW)


async def test_absence_without_registration_is_refused(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _person(uow, 1)
    with pytest.raises(errors.NotRegistered):
        await svc.report_absence(svc.ReportAbsence(person.id, 1, ""), person, uow, NOW)


async def test_coming_back_after_absence_clears_the_old_reason(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _person(uow, 1)
    await _register(uow, person)
    await svc.report_absence(svc.ReportAbsence(person.id, 1, "Sjuk"), person, uow, NOW)
    again = await _register(uow, person)
    assert again.standing.registration is not None
    assert (again.standing.registration.status, again.standing.registration.absence_reason) == (
        RegistrationStatus.REGISTERED,
        "",
    )


async def test_overview_shows_published_upcoming_sessions_with_my_status(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW, capacity=10)
    person = await _person(uow, 1)
    await _register(uow, person)
    overview = await svc.overview(person, uow, NOW)
    assert [s.session.number for s in overview.standings] == [1, 2]
    assert overview.standings[0].seats_left == 9
    mine = await svc.my_registrations(person, uow, NOW)
    assert [s.session.number for s in mine] == [1]


async def test_import_twice_changes_nothing_the_second_time(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    series, sessions = datafile.load(DEMO_DATA)
    result = await import_series(series, datafile.moved_to_future(sessions, NOW), uow, NOW)
    assert (result.series_created, result.sessions_created, result.sessions_updated) == (False, 0, 0)


async def _marks(uow: SqlUnitOfWork) -> tuple[list[int], int]:
    """The sessions whose meetings Graph keeps, and how many changes of invitees are logged for session 1."""
    conn = uow.connection
    followed = (await conn.execute(select(t.meetings.c.session_id).order_by(t.meetings.c.session_id))).scalars()
    changes = select(func.count()).select_from(t.meeting_changes).where(t.meeting_changes.c.session_id == 1)
    return list(followed), int((await conn.execute(changes)).scalar_one())


async def test_only_changes_of_who_holds_a_seat_mark_the_meeting(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW, capacity=1)
    assert await _marks(uow) == ([1, 2], 0), "the published sessions are followed at import"
    a, b = await _person(uow, 1), await _person(uow, 2)
    await _register(uow, a)
    await _register(uow, b, now=NOW + timedelta(seconds=1))  # waitlisted: not an invitee
    await _register(uow, a)  # a repeated click changes nothing
    assert await _marks(uow) == ([1, 2], 1)
    await svc.withdraw(svc.Withdraw(b.id, 1), b, uow, NOW)  # leaving the queue: invitees unchanged
    assert await _marks(uow) == ([1, 2], 1)
    await svc.report_absence(svc.ReportAbsence(a.id, 1, "Sjuk"), a, uow, NOW)  # a's seat goes to b
    assert await _marks(uow) == ([1, 2], 2), "one change logged for the absence and the promotion together"


async def test_messages_are_recorded_as_typed_events_in_the_same_transaction(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW, capacity=1)
    a, b = await _person(uow, 1), await _person(uow, 2)
    await _register(uow, a)
    await _register(uow, b, now=NOW + timedelta(seconds=1))
    await svc.withdraw(svc.Withdraw(a.id, 1), a, uow, NOW + timedelta(seconds=2))
    o = t.outbox
    rows = await uow.connection.execute(select(o.c.kind, o.c.person_id).order_by(o.c.id))
    # a's withdrawal brings a's cards up to date; b's promotion is news of its own.
    assert [tuple(r) for r in rows] == [
        ("confirmation", a.id), ("confirmation", b.id), ("card_refresh", a.id), ("promoted", b.id)
    ]  # fmt: skip
