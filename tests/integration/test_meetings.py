"""Teams meetings through the real msgraph-sdk against a fake Graph on 127.0.0.1: created on publish,
invitees always equal to the registrations, changes, cancellation, declines, attendance, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.graph.client import GraphCalendar
from bot.graph.credentials import create_credential
from bot.i18n import Catalogs
from bot.jobs.delivery import DeliveryWorker
from bot.jobs.meetings import MeetingReconciler, ReconcilerSettings
from bot.storage import tables
from bot.storage.engine import Database
from bot.storage.meetings import SqlMeetingRepository
from bot.storage.uow import SqlUnitOfWorkFactory
from cards import verbs
from tests.conftest import ROOT, FakeClock, seed_demo
from tests.fakegraph import Failure, FakeGraph
from tests.integration.conftest import Traced, start_bot
from tests.integration.harness import ALEX, MEGAN, BotClient, FakeConnector, User, all_text, form_values, numbered_user

MAILBOX = "larprojekt@example.org"


@pytest.fixture
def graph_settings(settings: Settings, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in graph.environment(MAILBOX).items():  # azure-identity reads its endpoint from these
        monkeypatch.setenv(name, value)
    return settings.model_copy(
        update={"graph_mailbox": MAILBOX, "graph_auth": "managed_identity", "graph_base_url": graph.base_url}
    )


@pytest.fixture
async def bot(
    graph_settings: Settings, clock: FakeClock, connector: FakeConnector, engine: Database
) -> AsyncIterator[BotClient]:
    await seed_demo(engine, clock.now(), capacity=3)
    async for client in start_bot(graph_settings, clock, connector):
        yield client


@pytest.fixture
async def reconciler(graph_settings: Settings, engine: Database, clock: FakeClock) -> AsyncIterator[MeetingReconciler]:
    calendar = GraphCalendar(create_credential(graph_settings), MAILBOX, graph_settings.graph_base_url)
    yield MeetingReconciler(
        SqlUnitOfWorkFactory(engine),
        calendar,
        clock,
        Catalogs.load(),
        ReconcilerSettings(settle_for=timedelta(0)),  # the fake clock stands still: nothing would settle
        jitter=lambda: 1.0,
    )
    await calendar.close()


async def _sync(reconciler: MeetingReconciler) -> None:
    for _ in range(50):
        if not await reconciler.run_once():
            return
    raise AssertionError("the reconciler did not settle")


async def _session(engine: Database, number: int) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(tables.sessions).where(tables.sessions.c.number == number))).one()


async def _meeting(engine: Database, number: int) -> Any:
    session = await _session(engine, number)
    async with engine.connect() as conn:
        query = select(tables.meetings).where(tables.meetings.c.session_id == session.id)
        return (await conn.execute(query)).one()


async def _statuses(engine: Database, number: int) -> dict[str, str]:
    session = await _session(engine, number)
    r, p = tables.registrations, tables.people
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(p.c.email, r.c.status).join(p, p.c.id == r.c.person_id).where(r.c.session_id == session.id)
        )
        return {row.email: row.status for row in rows}


async def _registered_emails(engine: Database, number: int) -> list[str]:
    return sorted(e for e, s in (await _statuses(engine, number)).items() if s == "registered")


def _email(user: User) -> str:
    return f"{user.id}@example.com"  # what the fake Bot Connector says the member's address is


async def _register(bot: BotClient, user: User, number: int, engine: Database) -> dict[str, Any]:
    session = await _session(engine, number)
    return await bot.click(
        verbs.REGISTER, {"session": session.id, verbs.ORGANISATION: "Luleå kommun", verbs.ROLE: "Lärare"}, user
    )


def _event_for(graph: FakeGraph, title: str) -> dict[str, Any]:
    (event,) = [e for e in graph.events.values() if title in e["subject"]]
    return event


async def test_publishing_creates_the_meeting_and_its_link_reaches_the_registered(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler, worker: DeliveryWorker
) -> None:
    await _register(bot, MEGAN, 1, engine)  # before the meeting exists
    await _sync(reconciler)
    first, second = await _session(engine, 1), await _session(engine, 2)
    assert graph.count("POST", "events") == 2, "the two published sessions, nothing for drafts"
    event = _event_for(graph, first.title)
    assert event["isOnlineMeeting"] is True
    assert event["onlineMeetingProvider"] == "teamsForBusiness"
    assert event["hideAttendees"] is True
    assert event["transactionId"] == (await _meeting(engine, 1)).transaction_id
    assert event["subject"] == f"Lärprojekt innovation, Lärträff {first.number}: {first.title}"
    body = event["body"]["content"]
    assert "Eftersnack till kl. 12.00" in body, "the after-talk, in the series' language"
    assert "Mikael Sturk, Pajala kommun" in body, "the programme with its speakers"
    assert event["start"] == {"dateTime": first.starts_at.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}
    assert graph.invitees(event) == [_email(MEGAN)]
    assert first.join_url == event["onlineMeeting"]["joinUrl"]
    assert second.join_url == _event_for(graph, second.title)["onlineMeeting"]["joinUrl"]
    admin = all_text(await bot.say_in_channel("träff 1"))
    assert "Teams-möte i arrangörernas kalender; alla anmälda är inbjudna" in admin
    await worker.run_once()
    link = [all_text(c) for c in bot.connector.proactive_cards(f"personal-{MEGAN.id}")]
    assert any("Här är möteslänken" in c and first.join_url in c for c in link)

    # A new title and time update the event; the Teams join block in the body stays.
    values = form_values(await bot.say_in_channel("ändra 1"))
    await bot.click_in_channel(verbs.ORG_SAVE, {**values, verbs.NUMBER: 1, "title": "Ny titel", "start": "08:30"})
    await _sync(reconciler)
    event = _event_for(graph, "Ny titel")
    assert event["subject"] == f"Lärprojekt innovation, Lärträff {first.number}: Ny titel"
    changed = [body for body in graph.patches if "subject" in body]
    assert changed, "the new title went out"
    assert all("attendees" not in body for body in changed), "a change of details never carries the invitees"
    assert "Join the meeting now" in event["body"]["content"]
    assert event["body"]["content"].count("Microsoft Teams meeting") == 1
    assert graph.count("PATCH", "event") == 1
    assert graph.invitees(event) == [_email(MEGAN)], "an update of details leaves the invitees alone"


async def test_a_burst_of_registrations_becomes_one_patch(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler
) -> None:
    await _sync(reconciler)
    before = len(graph.requests)
    people = [numbered_user(n) for n in range(50)]
    for user in people:
        await _register(bot, user, 2, engine)  # session 2 has no seat limit
    await _sync(reconciler)
    assert graph.requests[before:] == [("PATCH", "event")], "fifty registrations, one request"
    sent = [set(body) - {"@odata.type"} for body in graph.patches]
    assert sent == [{"attendees"}], "attendees only: then Graph notifies only those added or removed"
    second = await _session(engine, 2)
    assert graph.invitees(_event_for(graph, second.title)) == await _registered_emails(engine, 2)
    assert len(await _registered_emails(engine, 2)) == 50
    await _sync(reconciler)
    assert len(graph.requests) == before + 1, "nothing more to send"


async def test_withdrawn_absent_and_waitlisted_are_not_invited(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler
) -> None:
    first = await _session(engine, 1)  # three seats
    users = [MEGAN, *(numbered_user(n) for n in range(4))]
    for user in users:
        await _register(bot, user, 1, engine)
    await _sync(reconciler)
    event = _event_for(graph, first.title)
    assert graph.invitees(event) == await _registered_emails(engine, 1)
    assert len(graph.invitees(event)) == 3, "the waiting list is not invited"

    await bot.click(verbs.WITHDRAW, {"session": first.id}, MEGAN)
    await bot.click(verbs.ABSENCE, {"session": first.id, verbs.REASON: "Sjuk"}, numbered_user(0))
    await _sync(reconciler)
    statuses = await _statuses(engine, 1)
    assert statuses[_email(MEGAN)] == "withdrawn"
    assert statuses[_email(numbered_user(0))] == "absent"
    assert graph.invitees(event) == await _registered_emails(engine, 1)
    assert _email(numbered_user(3)) in graph.invitees(event), "promoted from the waiting list, invited"


async def test_a_create_whose_answer_was_lost_still_invites_those_who_registered_meanwhile(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler, clock: FakeClock
) -> None:
    """Graph made the event but its answer never arrived (the process died, the network dropped it); the
    retry with the same transactionId answers with the first event, whose invitees are those of then."""
    await _register(bot, MEGAN, 1, engine)
    first = await _session(engine, 1)
    graph.failures = [
        Failure(503, kind="events", after_handling=True, body_holds=first.title),
        Failure(503, kind="events", body_holds=first.title),
    ]
    await _sync(reconciler)
    assert graph.invitees(_event_for(graph, first.title)) == [_email(MEGAN)], "made, answer lost"
    await _register(bot, ALEX, 1, engine)  # while the reconciler waits to try again
    clock.current += timedelta(hours=1)
    await _sync(reconciler)
    event = _event_for(graph, first.title)
    assert len([e for e in graph.events.values() if e["subject"] == event["subject"]]) == 1, "one event"
    assert graph.invitees(event) == sorted([_email(MEGAN), _email(ALEX)])
    assert await _registered_emails(engine, 1) == graph.invitees(event)
    meeting = await _meeting(engine, 1)
    assert meeting.attendees_synced == meeting.attendees_version


async def test_throttling_and_an_outage_delay_but_lose_nothing(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler, clock: FakeClock
) -> None:
    await _sync(reconciler)
    second = await _session(engine, 2)
    graph.failures = [Failure(429, "30")]
    await _register(bot, MEGAN, 2, engine)
    await _sync(reconciler)
    assert graph.count("PATCH", "event") == 1
    assert graph.invitees(_event_for(graph, second.title)) == []
    meeting = await _meeting(engine, 2)
    assert meeting.retry_at >= clock.current + timedelta(seconds=30), "Retry-After is honoured"
    clock.current += timedelta(seconds=10)
    await _sync(reconciler)
    assert graph.count("PATCH", "event") == 1, "the mailbox is paused while throttled"

    # Graph is down for an hour; registrations keep coming.
    graph.down = True
    requests_before = len(graph.requests)
    for n in range(5):
        clock.current += timedelta(minutes=12)
        await _register(bot, numbered_user(n), 2, engine)
        await _sync(reconciler)
    during = len(graph.requests) - requests_before
    assert 3 <= during <= 12, f"backing off while down: {during} requests in an hour"
    print(f"\nGraph down for an hour: {during} requests; throttled: 1 request, then none for Retry-After")
    graph.down = False
    clock.current += timedelta(minutes=11)  # the longest backoff is ten minutes
    await _sync(reconciler)
    assert graph.invitees(_event_for(graph, second.title)) == await _registered_emails(engine, 2)
    assert len(await _registered_emails(engine, 2)) == 6
    meeting = await _meeting(engine, 2)
    assert (meeting.attempts, meeting.retry_at, meeting.attendees_synced) == (0, None, meeting.attendees_version)


async def test_cancelling_cancels_the_event_with_the_reason(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler
) -> None:
    await _sync(reconciler)
    second = await _session(engine, 2)
    await bot.say_in_channel("ställ in 2 Föreläsaren är sjuk")
    await _sync(reconciler)
    event = _event_for(graph, second.title)
    assert event["isCancelled"] is True
    assert event["cancelComment"] == "Föreläsaren är sjuk"
    await _sync(reconciler)
    assert graph.count("POST", "cancel") == 1


async def test_a_declined_invitation_is_an_absence_and_the_seat_moves_on(
    bot: BotClient,
    engine: Database,
    graph: FakeGraph,
    reconciler: MeetingReconciler,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    await bot.say_in_channel("statistik")  # the digest needs the organisers' channel
    first = await _session(engine, 1)
    users = [MEGAN, *(numbered_user(n) for n in range(3))]  # three seats: the last is waitlisted
    for user in users:
        await _register(bot, user, 1, engine)
    await _sync(reconciler)
    event = _event_for(graph, first.title)
    graph.decline(event["id"], _email(MEGAN))
    clock.current += timedelta(minutes=16)  # the next look at the responses
    await _sync(reconciler)
    statuses = await _statuses(engine, 1)
    assert statuses[_email(MEGAN)] == "absent"
    assert statuses[_email(numbered_user(2))] == "registered", "promoted into the freed seat"
    assert graph.invitees(event) == await _registered_emails(engine, 1)
    await worker.run_once()
    told = all_text(bot.connector.proactive_cards(f"personal-{MEGAN.id}")[-1])
    assert "Du tackade nej till mötesinbjudan" in told
    participants = all_text(await bot.say_in_channel("deltagare 1"))
    assert "Tackade nej till mötesinbjudan" in participants, "organisers see why"

    # Registering again after declining: the old decline no longer counts.
    await _register(bot, MEGAN, 1, engine)
    clock.current += timedelta(minutes=16)
    await _sync(reconciler)
    assert (await _statuses(engine, 1))[_email(MEGAN)] == "waitlisted"


async def test_attendance_is_matched_to_registrations(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler, clock: FakeClock
) -> None:
    first = await _session(engine, 1)
    for user in (MEGAN, numbered_user(1), numbered_user(2)):
        await _register(bot, user, 1, engine)
    await bot.say("hej", numbered_user(9))  # known to the bot, never registered
    await _sync(reconciler)
    first = await _session(engine, 1)
    graph.attendance[first.join_url] = [
        {"identity": {"id": MEGAN.aad_object_id, "displayName": "Megan Bowen"}, "emailAddress": "",
         "totalAttendanceInSeconds": 5400, "role": "Attendee"},
        {"identity": {"id": numbered_user(1).aad_object_id, "displayName": "Deltagare 1"},
         "emailAddress": _email(numbered_user(1)), "totalAttendanceInSeconds": 600, "role": "Attendee"},
        {"identity": {"id": numbered_user(9).aad_object_id, "displayName": "Deltagare 9"}, "emailAddress": "",
         "totalAttendanceInSeconds": 3000, "role": "Attendee"},
        {"identity": {"id": "", "displayName": "Gäst Utifrån"}, "emailAddress": "gast@example.net",
         "totalAttendanceInSeconds": 1200, "role": "Attendee"},
        {"identity": {"id": MEGAN.aad_object_id, "displayName": "Megan Bowen"}, "emailAddress": "",
         "totalAttendanceInSeconds": 60, "role": "Attendee"},
        # From another tenant, as federated attendees may come: a name and nothing else.
        {"identity": {"id": "", "displayName": "deltagare  2"}, "emailAddress": "",
         "totalAttendanceInSeconds": 900, "role": "Attendee"},
    ]  # fmt: skip
    clock.current = first.ends_at + timedelta(minutes=5)
    await _sync(reconciler)
    assert graph.count("GET", "attendanceReports") == 0, "not before the report can exist"
    clock.current = first.ends_at + timedelta(minutes=25)
    await _sync(reconciler)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(tables.attendance).order_by(tables.attendance.c.id))).all()
    assert {r.name: r.seconds for r in rows} == {
        "Megan Bowen": 5460, "Deltagare 1": 600, "Deltagare 9": 3000, "Gäst Utifrån": 1200, "deltagare  2": 900
    }  # fmt: skip
    assert [r.uncertain for r in rows if r.name == "deltagare  2"] == [True]
    stats = all_text(await bot.say_in_channel("statistik"))
    assert "3 deltog · 0 anmälda deltog inte · 2 deltog utan anmälan" in stats
    participants = all_text(await bot.say_in_channel("deltagare 1"))
    assert "Deltog utan anmälan" in participants
    assert "Gäst Utifrån · gast@example.net" in participants
    assert "deltog (osäker: matchad på namnet)" in participants
    assert participants.count("deltog (osäker") == 1
    await _sync(reconciler)
    assert graph.count("GET", "attendanceReports") == 1, "read once"


async def test_no_join_link_and_refusals_are_told_to_organisers_once(
    bot: BotClient,
    engine: Database,
    graph: FakeGraph,
    reconciler: MeetingReconciler,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    await bot.say_in_channel("statistik")  # the organisers' channel is remembered
    graph.no_join_url = True
    await _sync(reconciler)
    await worker.run_once()
    told = [all_text(c) for c in bot.connector.proactive_cards("team-id")]
    assert len(told) == 2, "one message per session"
    first = next(c for c in told if "lärträff 1" in c)
    assert "gav den ingen möteslänk" in first
    assert "Teams-licens" in first
    assert "”möte 1”" in first
    assert (await _session(engine, 1)).join_url is None
    clock.current += timedelta(hours=2)
    await _sync(reconciler)
    assert graph.count("POST", "events") == 2, "not retried by itself: an organiser must fix the mailbox"

    graph.no_join_url = False
    reply = all_text(await bot.say_in_channel("möte 1"))
    assert "Teams-mötet skapas" in reply
    await _sync(reconciler)
    assert (await _session(engine, 1)).join_url is not None

    graph.failures = [Failure(403, kind="events")]
    await bot.say_in_channel("möte 2")
    await _sync(reconciler)
    clock.current += timedelta(hours=1, minutes=1)
    graph.failures = [Failure(403, kind="events")]
    await _sync(reconciler)
    await worker.run_once()
    refused = [c for c in map(all_text, bot.connector.proactive_cards("team-id")) if "nekade" in c]
    assert len(refused) == 1, "told once, not every hour"
    assert "Calendars.ReadWrite" in refused[0]
    clock.current += timedelta(hours=1, minutes=1)
    await _sync(reconciler)
    assert (await _session(engine, 2)).join_url is not None, "fixed: it goes through on the next try"


async def test_a_link_set_by_hand_wins_and_meeting_brings_graph_back(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler
) -> None:
    url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_hand%40thread.v2/0"
    await bot.say_in_channel(f"länk 1 {url}")
    await _sync(reconciler)
    assert graph.count("POST", "events") == 1, "only session 2"
    assert (await _session(engine, 1)).join_url == url
    await bot.say_in_channel("möte 1")
    await _sync(reconciler)
    assert graph.count("POST", "events") == 2
    assert (await _session(engine, 1)).join_url != url
    draft = all_text(await bot.say_in_channel("möte 3"))
    assert "utkast" in draft
    assert "ingen lärträff 99" in all_text(await bot.say_in_channel("möte 99"))
    assert "Arrangörskommandon" in all_text(await bot.say_in_channel("möte tre")), "a friendly card, no 500"
    assert graph.count("POST", "events") == 2, "bad input changes nothing"
    published = all_text(await bot.say_in_channel("publicera 3"))
    assert "Teams-mötet skapas" in published
    assert "skapas i arrangörernas kalender" in published


async def test_without_graph_organisers_are_told_to_set_links_by_hand(
    settings: Settings, clock: FakeClock, connector: FakeConnector, engine: Database
) -> None:
    await seed_demo(engine, clock.now())
    async for client in start_bot(settings, clock, connector):
        reply = all_text(await client.say_in_channel("möte 1", ALEX))
        assert "skapar inte Teams-möten" in reply
        async with engine.connect() as conn:
            modes = (await conn.execute(select(tables.meetings.c.mode))).scalars().all()
        assert modes == ["graph", "graph"], "kept, for the day Graph is set up"


async def _add_registered(engine: Database, session_id: int, first: int, count: int, now: Any) -> None:
    """Many registered people at once, written directly: the limit is about numbers, not clicks."""
    p, r = tables.people, tables.registrations
    async with engine.begin() as conn:
        for n in range(first, first + count):
            values = {"tenant_id": "t", "aad_object_id": f"bulk-{n}", "name": f"Bulk {n}",
                      "email": f"bulk{n}@example.org", "created_at": now, "updated_at": now}  # fmt: skip
            person_id = (await conn.execute(p.insert().values(**values).returning(p.c.id))).scalar_one()
            registration = {"session_id": session_id, "person_id": person_id, "status": "registered",
                            "after_talk": False, "created_at": now, "status_changed_at": now}  # fmt: skip
            await conn.execute(r.insert().values(**registration))
        await SqlMeetingRepository(conn).attendees_changed(session_id, now)


async def test_organisers_are_warned_before_the_invitation_is_full(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler, worker: DeliveryWorker,
    clock: FakeClock,
) -> None:  # fmt: skip
    await bot.say_in_channel("statistik")
    await _sync(reconciler)
    second = await _session(engine, 2)
    await _add_registered(engine, second.id, 0, 460, clock.now())
    await _sync(reconciler)
    event = _event_for(graph, second.title)
    assert len(graph.invitees(event)) == 460
    await _add_registered(engine, second.id, 460, 45, clock.now())
    await _sync(reconciler)
    assert len(graph.invitees(event)) == 500, "Outlook's limit"
    await worker.run_once()
    told = [all_text(c) for c in bot.connector.proactive_cards("team-id")]
    assert len(told) == 2
    assert "har 460 inbjudna" in told[0]
    assert "de sista 5 finns inte med" in told[1]


async def test_changes_settle_for_a_second_so_a_burst_is_one_request(
    bot: BotClient, engine: Database, graph: FakeGraph, graph_settings: Settings, clock: FakeClock
) -> None:
    calendar = GraphCalendar(create_credential(graph_settings), MAILBOX, graph_settings.graph_base_url)
    settled = MeetingReconciler(SqlUnitOfWorkFactory(engine), calendar, clock, Catalogs.load(), ReconcilerSettings())
    try:
        for _ in range(3):  # create the meetings, then read their responses: each step settles first
            clock.current += timedelta(seconds=1)
            await _sync(settled)
        await _register(bot, MEGAN, 2, engine)
        assert await settled.run_once() == 0, "not yet: more may follow"
        clock.current += timedelta(milliseconds=500)
        await _register(bot, numbered_user(1), 2, engine)
        clock.current += timedelta(milliseconds=600)
        assert await settled.run_once() == 0, "the second change restarts the wait"
        clock.current += timedelta(milliseconds=500)
        await _sync(settled)
        assert graph.count("PATCH", "event") == 1
        assert graph.invitees(_event_for(graph, (await _session(engine, 2)).title)) == await _registered_emails(
            engine, 2
        )
    finally:
        await calendar.close()


async def test_an_event_deleted_in_outlook_is_made_again_and_the_new_link_sent(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler, worker: DeliveryWorker
) -> None:
    await _register(bot, MEGAN, 2, engine)
    await _sync(reconciler)
    second = await _session(engine, 2)
    old = _event_for(graph, second.title)
    del graph.events[old["id"]]  # someone deleted it in Outlook
    await _register(bot, numbered_user(1), 2, engine)
    await _sync(reconciler)
    new = _event_for(graph, second.title)
    assert new["id"] != old["id"]
    assert graph.invitees(new) == await _registered_emails(engine, 2)
    assert (await _session(engine, 2)).join_url == new["onlineMeeting"]["joinUrl"]
    await worker.run_once()
    links = [all_text(c) for c in bot.connector.proactive_cards(f"personal-{MEGAN.id}") if "möteslänken" in all_text(c)]
    assert new["onlineMeeting"]["joinUrl"] in links[-1]

    # Deleted and then cancelled: nothing left to cancel, and nothing made again.
    del graph.events[new["id"]]
    await bot.say_in_channel("ställ in 2 Flyttad")
    await _sync(reconciler)
    assert not [e for e in graph.events.values() if second.title in e["subject"]]
    assert (await _meeting(engine, 2)).cancelled


def test_warm_up_imports_what_reading_graphs_answers_needs() -> None:
    """The SDK's lazy imports (about 2 s at the first event read) happen at start-up, off the event loop."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from azure.identity.aio import ClientSecretCredential\n"
        "from bot.graph.client import GraphCalendar\n"
        "needed = ['msgraph.generated.models.attendee', 'msgraph.generated.models.response_status',\n"
        "          'msgraph.generated.models.attendance_record', 'msgraph.generated.models.online_meeting_info']\n"
        "calendar = GraphCalendar(ClientSecretCredential('t', 'c', 's'), 'm@example.org', 'https://graph.microsoft.com/v1.0')\n"
        "assert not [m for m in needed if m in sys.modules]\n"
        "calendar.warm_up()\n"
        "missing = [m for m in needed if m not in sys.modules]\n"
        "assert not missing, missing\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, timeout=120)


async def test_invited_people_from_other_tenants_skip_the_lobby_and_a_change_in_teams_is_undone(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler, clock: FakeClock
) -> None:
    await _register(bot, MEGAN, 1, engine)
    await _sync(reconciler)
    first = await _session(engine, 1)
    meeting_id = "meeting-" + _event_for(graph, first.title)["id"]
    assert graph.lobby(meeting_id)["scope"] == "invited"
    assert {key for body in graph.meeting_patches for key in body} - {"@odata.type"} == {"lobbyBypassSettings"}, (
        "the lobby alone: the event owns the rest of the meeting"
    )
    patched = len(graph.meeting_patches)
    clock.current += timedelta(minutes=16)
    await _sync(reconciler)
    assert len(graph.meeting_patches) == patched, "already so: looked at, not sent again"

    graph.lobby(meeting_id)["scope"] = "organization"  # an organiser changed it in Teams
    clock.current += timedelta(minutes=16)
    await _sync(reconciler)
    assert graph.lobby(meeting_id)["scope"] == "invited"


async def test_a_lobby_refused_for_lack_of_permission_is_told_once_and_holds_up_nothing(
    bot: BotClient,
    engine: Database,
    graph: FakeGraph,
    reconciler: MeetingReconciler,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    await bot.say_in_channel("statistik")  # the organisers' channel is remembered
    graph.failures = [Failure(403, kind="meeting"), Failure(403, kind="meeting")]  # both published sessions
    await _sync(reconciler)
    await _register(bot, MEGAN, 1, engine)
    await _sync(reconciler)
    assert _email(MEGAN) in graph.invitees(_event_for(graph, (await _session(engine, 1)).title)), "still invited"
    await worker.run_once()
    told = [all_text(c) for c in bot.connector.proactive_cards("team-id")]
    assert len(told) == 2, "once per session"
    assert "OnlineMeetings.ReadWrite.All" in told[0]
    assert "lobbyn" in told[0]

    clock.current += timedelta(minutes=16)
    graph.failures = [Failure(403, kind="meeting"), Failure(403, kind="meeting")]
    await _sync(reconciler)
    await worker.run_once()
    assert len(bot.connector.proactive_cards("team-id")) == 2, "not told again while nothing changed"

    clock.current += timedelta(minutes=16)  # the permission granted
    await _sync(reconciler)
    assert {graph.lobby(f"meeting-{e['id']}")["scope"] for e in graph.events.values()} == {"invited"}
    assert {(await _meeting(engine, n)).problem for n in (1, 2)} == {""}


async def test_the_lobby_is_left_to_teams_when_the_setting_says_off(
    engine: Database, graph: FakeGraph, graph_settings: Settings, clock: FakeClock, bot: BotClient
) -> None:
    calendar = GraphCalendar(create_credential(graph_settings), MAILBOX, graph_settings.graph_base_url)
    off = MeetingReconciler(
        SqlUnitOfWorkFactory(engine),
        calendar,
        clock,
        Catalogs.load(),
        ReconcilerSettings(settle_for=timedelta(0), lobby="off"),
        jitter=lambda: 1.0,
    )
    try:
        await _sync(off)
    finally:
        await calendar.close()
    assert graph.events, "the meetings were made"
    assert graph.meeting_patches == []
    assert graph.count("GET", "meetings") == 0


async def test_readiness_says_when_a_meeting_is_out_of_step_for_over_an_hour(
    bot: BotClient, engine: Database, reconciler: MeetingReconciler, clock: FakeClock
) -> None:
    async def meetings() -> dict[str, Any]:
        async with bot.http.get(bot.server.make_url("/readyz")) as response:
            assert response.status == 200
            return dict((await response.json())["jobs"]["meetings"])

    await _sync(reconciler)
    await _register(bot, MEGAN, 1, engine)
    clock.current += timedelta(minutes=61)  # Graph not told: the reconciler did not run
    assert await meetings() == {"out_of_step": 1, "oldest_seconds": 3660, "behind": True}
    await _sync(reconciler)
    assert await meetings() == {"out_of_step": 0, "oldest_seconds": 0, "behind": False}


async def test_a_graph_sync_is_traced_and_its_throttling_counted(
    bot: BotClient, engine: Database, graph: FakeGraph, reconciler: MeetingReconciler, traced: Traced
) -> None:
    graph.failures = [Failure(429, retry_after="0", kind="events")]
    await _sync(reconciler)
    names = [s.name for s in traced.spans.get_finished_spans()]
    assert names.count("graph") >= graph.count("POST", "events")
    assert ({"service": "graph"}, 1) in traced.points("lartraff.throttled")
    subjects = [e["subject"] for e in graph.events.values()]
    values = " ".join(str(v) for s in traced.spans.get_finished_spans() for v in (s.attributes or {}).values())
    assert not any(subject in values for subject in subjects), "no titles or addresses in the spans"
