"""A person's rights over HTTP, on SQLite and PostgreSQL: "my data" shows and exports every row about them,
"delete my data" leaves nothing that names them while the statistics keep their municipality, organisers
erase on someone's request, and the retention period purges on time."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import openpyxl
from sqlalchemy import Table, select, update

from bot.domain.meetings import AttendanceRecord, MeetingMode
from bot.domain.model import RegistrationStatus
from bot.domain.privacy import retention_cutoff
from bot.jobs.scheduler import Scheduler, ScheduleSettings
from bot.storage import tables
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from cards import verbs
from tests.conftest import FakeClock
from tests.integration.harness import (
    MEGAN,
    TENANT,
    BotClient,
    User,
    action_titled,
    actions,
    all_text,
    numbered_user,
    session_ids,
)

PAJALA = "Pajala kommun"
REASON = "Krockar med kommunfullmäktige"
SUGGESTION = "Hur delar vi data mellan kommunerna?"
COMMENT = "Bra, men för kort paus"


async def _register(bot: BotClient, user: User, session: int, organisation: str = PAJALA) -> dict[str, Any]:
    data = {"session": session, verbs.ORGANISATION: organisation, verbs.ROLE: "Utvecklingsledare"}
    return await bot.click(verbs.REGISTER, data, user)


async def _megan_everywhere(bot: BotClient, engine: Database, clock: FakeClock) -> dict[int, int]:
    """Megan registers for sessions 1 and 3 (3 is published with one seat, and someone waits for it), can't
    come to 2, suggests a theme; session 1 takes place, she was in the meeting and says how it was."""
    ids = await session_ids(engine)
    async with engine.begin() as conn:
        third = update(tables.sessions).where(tables.sessions.c.id == ids[3])
        await conn.execute(third.values(capacity=1, status="published"))
    for number in (1, 2, 3):
        assert "✅" in all_text(await _register(bot, MEGAN, ids[number]))
    assert "⏳" in all_text(await _register(bot, numbered_user(5), ids[3], "Kiruna kommun"))
    await bot.click(verbs.ABSENCE, {"session": ids[2], verbs.CAUSE: "clash", verbs.REASON: REASON}, MEGAN)
    await bot.say(f"förslag {SUGGESTION}", MEGAN)
    async with SqlUnitOfWork(engine) as uow:
        session = await uow.sessions.get(ids[1])
        assert session is not None
        (megan,) = await uow.people.by_aad_ids(TENANT, [MEGAN.aad_object_id])
        await uow.meetings.follow(ids[3], MeetingMode.GRAPH, clock.now())
        await uow.attendance.replace(
            ids[1], [AttendanceRecord(megan.id, MEGAN.aad_object_id, megan.email, MEGAN.name, 3600)]
        )
        await uow.commit()
    clock.current = session.ends_at + timedelta(hours=1)
    await bot.click(verbs.FEEDBACK, {"session": ids[1], verbs.RATING: 4, verbs.COMMENT: COMMENT}, MEGAN)
    return ids


async def _rows_mentioning(engine: Database, *needles: str) -> list[tuple[str, str]]:
    """(table, needle) for every row of every table that holds one of the needles anywhere."""
    found: list[tuple[str, str]] = []
    async with engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                flat = json.dumps([str(v) for v in row], ensure_ascii=False).casefold()
                found += [(table.name, n) for n in needles if n.casefold() in flat]
    return found


async def _one(engine: Database, table: Table, **where: Any) -> Any:
    async with engine.connect() as conn:
        query = select(table).where(*(table.c[k] == v for k, v in where.items()))
        return (await conn.execute(query)).one()


async def test_my_data_shows_and_exports_every_row(bot: BotClient, engine: Database, clock: FakeClock) -> None:
    ids = await _megan_everywhere(bot, engine, clock)
    card = await bot.say("mina uppgifter", MEGAN)
    shown = all_text(card)
    for expected in ("Megan Bowen", "user-id-1@example.com", PAJALA, "Utvecklingsledare", REASON, SUGGESTION, COMMENT):
        assert expected in shown, expected
    assert "60 minuter" in shown, "attendance from the meeting report"
    assert "Ladda ner (Excel)" in shown
    assert action_titled(card, "Radera mina uppgifter")["verb"] == verbs.ERASE_ASK
    assert len(json.dumps(card).encode()) < 28_000

    links = {a["title"]: a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl"}
    assert links["Så hanterar vi dina uppgifter"].endswith("/privacy")
    url = links["Ladda ner (JSON)"]
    token = url.rsplit("/my-data/", 1)[1].removesuffix(".json")
    assert len(token) >= 40
    assert "Megan" not in url
    async with bot.http.get(bot.server.make_url(f"/my-data/{token}.json")) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        data = json.loads(await response.read())
    assert data["profile"]["name"] == "Megan Bowen"
    assert data["profile"]["entra_object_id"] == MEGAN.aad_object_id
    statuses = {(r["session"], r["status"]) for r in data["registrations"]}
    assert statuses == {(1, "registered"), (2, "absent"), (3, "registered")}
    assert next(r["reason"] for r in data["registrations"] if r["session"] == 2).endswith(REASON)
    assert [s["text"] for s in data["suggestions"]] == [SUGGESTION]
    assert [(f["rating"], f["comment"]) for f in data["feedback"]] == [(4, COMMENT)]
    assert [(a["session"], a["minutes"]) for a in data["attendance"]] == [(1, 60)]

    async with bot.http.get(bot.server.make_url(f"/my-data/{token}.xlsx")) as response:
        assert response.status == 200
        book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames == ["Mina uppgifter", "Anmälningar", "Omdömen", "Förslag på teman", "Närvaro"]
    registrations = list(book["Anmälningar"].iter_rows(values_only=True))
    assert len(registrations) == 4
    assert registrations[0][0] == "Serie"
    assert any(REASON in str(cell) for row in registrations for cell in row)

    clock.current += timedelta(hours=1, seconds=1)
    async with bot.http.get(bot.server.make_url(f"/my-data/{token}.json")) as response:
        assert response.status == 410
    async with bot.http.get(bot.server.make_url("/my-data/guessed.json")) as response:
        assert response.status == 410
    assert ids


async def test_delete_my_data_leaves_nothing_that_names_me(bot: BotClient, engine: Database, clock: FakeClock) -> None:
    ids = await _megan_everywhere(bot, engine, clock)
    question = await bot.say("radera mina uppgifter", MEGAN)
    assert "Radera mina uppgifter?" in all_text(question)
    assert [a["verb"] for a in actions(question)] == [verbs.ERASE, verbs.MY_DATA]
    megan_before = await _one(engine, tables.people, aad_object_id=MEGAN.aad_object_id)

    done = await bot.click(verbs.ERASE, {}, MEGAN)
    text = all_text(done)
    assert "Dina uppgifter är raderade" in text
    assert "Du har lämnat din plats på 1 kommande lärträff" in text
    assert "utan ditt namn" in text

    needles = ("Megan", "user-id-1@example.com", MEGAN.aad_object_id, "personal-user-id-1", REASON, SUGGESTION, COMMENT)
    assert await _rows_mentioning(engine, *needles) == []
    erased = await _one(engine, tables.people, id=megan_before.id)
    assert (erased.organisation, erased.reachable, erased.erased_at is not None) == (PAJALA, False, True)
    statuses = {}
    async with engine.connect() as conn:
        r = tables.registrations
        for session_id, person_id, status in await conn.execute(select(r.c.session_id, r.c.person_id, r.c.status)):
            statuses[(session_id, person_id)] = status
        changes = (await conn.execute(select(tables.meeting_changes.c.session_id))).scalars().all()
    assert statuses[(ids[1], megan_before.id)] == RegistrationStatus.REGISTERED.value, "the past stays, nameless"
    assert statuses[(ids[3], megan_before.id)] == RegistrationStatus.WITHDRAWN.value
    waiting = await _one(engine, tables.people, aad_object_id=numbered_user(5).aad_object_id)
    assert statuses[(ids[3], waiting.id)] == RegistrationStatus.REGISTERED.value, "the seat went to the queue"
    assert ids[3] in changes, "the meeting's invitees are to be brought in step"
    attendance = await _one(engine, tables.attendance, session_id=ids[1])
    assert (attendance.person_id, attendance.seconds, attendance.name, attendance.email) == (erased.id, 3600, "", "")

    stats = all_text(await bot.say_in_channel("statistik"))
    assert f"{PAJALA}: 1" in stats, "the municipality still counts the session that took place"
    listed = all_text(await bot.say_in_channel("deltagare 1"))
    assert f"(uppgifterna raderade) · {PAJALA}" in listed
    await Scheduler(SqlUnitOfWorkFactory(engine), clock).run_once()  # "how was it?" goes out after session 1
    async with engine.connect() as conn:
        to_her = select(tables.outbox.c.kind).where(tables.outbox.c.person_id == megan_before.id)
        assert (await conn.execute(to_her)).all() == [], "nobody is left to ask"

    again = await bot.click(verbs.ERASE, {}, MEGAN)  # a second click: she is someone new, with nothing
    assert "Dina uppgifter är raderade" in all_text(again)
    assert await _rows_mentioning(engine, *needles) == []


async def test_organisers_erase_on_request_audited_without_the_name(
    bot: BotClient, engine: Database, clock: FakeClock
) -> None:
    await _megan_everywhere(bot, engine, clock)
    refused = await bot.say("radera deltagare user-id-1@example.com", numbered_user(5))
    assert "bara seriens arrangörer" in all_text(refused)
    unknown = await bot.say_in_channel("radera deltagare nobody@example.com")
    assert "Jag känner ingen som ”nobody@example.com”" in all_text(unknown)
    hint = await bot.say_in_channel("radera deltagare")
    assert "Skriv personens e-postadress" in all_text(hint)

    bot.connector.object_ids[MEGAN.id] = MEGAN.aad_object_id
    mentioned = await bot.say_in_channel("radera deltagare", mentions=[MEGAN])
    assert "Megan Bowen" in all_text(mentioned)
    found = await bot.say_in_channel("radera deltagare USER-ID-1@example.com")
    shown = all_text(found)
    for expected in ("Megan Bowen", PAJALA, "3 anmälningar"):
        assert expected in shown
    button = action_titled(found, "Radera personens uppgifter")
    done = await bot.click_in_channel(button["verb"], button["data"])
    assert "Deltagarens uppgifter är raderade" in all_text(done)
    assert await _rows_mentioning(engine, "Megan", "user-id-1@example.com", REASON, SUGGESTION, COMMENT) == []
    entry = await _one(engine, tables.audit_log, action="erase_participant")
    assert "Megan" not in json.dumps([str(v) for v in entry])
    assert "raderade en deltagares uppgifter" in all_text(await bot.say_in_channel("logg"))


async def test_retention_purges_on_time(bot: BotClient, engine: Database, clock: FakeClock) -> None:
    ids = await _megan_everywhere(bot, engine, clock)
    async with SqlUnitOfWork(engine) as uow:
        sessions = {n: await uow.sessions.get(ids[n]) for n in (1, 2, 3)}
    last = max(s.ends_at for s in sessions.values() if s is not None)
    scheduler = Scheduler(SqlUnitOfWorkFactory(engine), clock, ScheduleSettings(retention_months=12))

    # The day before the period has passed for the first session: nothing goes.
    first_end = sessions[1].ends_at if sessions[1] else last
    clock.current = first_end + timedelta(days=364)
    assert retention_cutoff(clock.now(), 12) < first_end
    await scheduler.purge(clock.now())
    assert (await _one(engine, tables.feedback, session_id=ids[1])).comment == COMMENT
    assert (await _one(engine, tables.attendance, session_id=ids[1])).name == MEGAN.name

    # A year and a day after the last session: everything about them is purged, the counts stay.
    clock.current = last + timedelta(days=367)
    await scheduler.purge(clock.now())
    assert (await _one(engine, tables.feedback, session_id=ids[1])).rating == 4
    assert await _rows_mentioning(engine, "Megan", "user-id-1@example.com", REASON, COMMENT) == []
    suggestion = await _one(engine, tables.theme_suggestions, text=SUGGESTION)
    assert suggestion.person_id is None, "the theme stays for the organisers, who suggested it does not"
    megan = await _one(engine, tables.people, organisation=PAJALA)
    assert megan.erased_at is not None
    stats = all_text(await bot.say_in_channel("statistik"))
    assert f"{PAJALA}: 2" in stats
    assert "Hur delar vi data" in all_text(await bot.say_in_channel("förslagen"))


async def test_help_welcome_and_privacy_page_say_how(bot: BotClient) -> None:
    assert "mina uppgifter" in all_text(await bot.say("hjälp", MEGAN))
    assert "Skriv ”mina uppgifter”" in all_text(await bot.say("hej", MEGAN))
    assert "everything I keep about you" in all_text(await bot.say("help", numbered_user(3, "en-GB")))
    async with bot.http.get(bot.server.make_url("/privacy")) as response:
        page = await response.text()
    for kind in ("Förhinder", "Temaförslag", "Hur var lärträffen?", "Närvaro", "Organisation och roll", "12 månader"):
        assert kind in page, kind
    for command in ("mina uppgifter", "radera mina uppgifter", "my data", "delete my data", "IMY"):
        assert command in page, command
