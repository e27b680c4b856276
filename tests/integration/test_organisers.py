"""Organisers run the series from their Teams channel: channel activities with <at> mentions, over HTTP."""

from __future__ import annotations

import io
import logging
import re
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.domain import organising as f
from bot.storage import tables
from bot.storage.engine import Database
from cards import verbs
from tests.conftest import FakeClock
from tests.integration.harness import (
    ALEX,
    MEGAN,
    BotClient,
    User,
    action_titled,
    actions,
    all_text,
    form_values,
    numbered_user,
    session_ids,
)

FORM: dict[str, Any] = {
    f.TITLE: "Lärträff 9 – digital välfärd",
    f.DATE: "2027-03-05",
    f.START: "09:00",
    f.END: "11:30",
    f.AFTER_TALK_END: "12:00",
    f.DEADLINE: "2027-02-26",
    f.CAPACITY: "40",
    f.PLACE: "Teams",
    f.GUEST: "Anna Andersson, Digg",
    f.DESCRIPTION: "Hur når vi fler med digitala tjänster?",
    f.PROGRAMME: "Inledning | Johan Hörnemalm\nDigital välfärd – Anna Andersson, Digg\nReflekterande dialog",
}


async def _count(engine: Database, table: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _create(bot: BotClient, **changes: str) -> dict[str, Any]:
    return await bot.click_in_channel(verbs.ORG_SAVE, {verbs.NUMBER: 0, **FORM, **changes})


async def _register(bot: BotClient, user: User, number: int, engine: Database) -> str:
    async with engine.connect() as conn:
        session_id = (
            await conn.execute(select(tables.sessions.c.id).where(tables.sessions.c.number == number))
        ).scalar_one()
    profile = {verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Strateg", verbs.AFTER_TALK: True}
    card = await bot.click(verbs.REGISTER, {"session": session_id, **profile}, user)
    return all_text(card)


async def test_create_edit_publish_and_participants_see_it(bot: BotClient, engine: Database) -> None:
    form = await bot.say_in_channel("ny träff")
    assert "Ny lärträff" in all_text(form)
    assert action_titled(form, "Skapa utkast")["verb"] == verbs.ORG_SAVE

    saved = await _create(bot)
    text = all_text(saved)
    assert "Utkastet är sparat" in text
    assert "Lärträff 9: Lärträff 9 – digital välfärd" in text
    assert "Utkast: syns inte för deltagarna" in text
    assert "digital välfärd" not in all_text(await bot.say("träffar", MEGAN)), "a draft is not shown"

    edit = await bot.say_in_channel("ändra 9")
    values = form_values(edit)
    assert values[f.TITLE] == FORM[f.TITLE]
    assert values[f.DATE] == "2027-03-05"
    assert values[f.PROGRAMME].splitlines()[1] == "Digital välfärd | Anna Andersson, Digg"
    changed = await bot.click_in_channel(verbs.ORG_SAVE, {**values, verbs.NUMBER: 9, f.TITLE: "Digital välfärd"})
    assert "Ändringarna är sparade" in all_text(changed)

    published = await bot.say_in_channel("publicera 9")
    assert "Publicerad" in all_text(published)

    sessions = all_text(await bot.say("träffar", MEGAN))
    assert "Lärträff 9: Digital välfärd" in sessions
    assert "fredag 5 mars 2027 kl. 09.00–11.30" in sessions
    async with engine.connect() as conn:
        actions_logged = (
            await conn.execute(select(tables.audit_log.c.action).order_by(tables.audit_log.c.id))
        ).scalars()
        assert list(actions_logged) == ["create", "edit", "publish"]
        edit_row = (await conn.execute(select(tables.audit_log).where(tables.audit_log.c.action == "edit"))).one()
    assert edit_row.before["title"] == "Lärträff 9 – digital välfärd"
    assert edit_row.after["title"] == "Digital välfärd"
    assert edit_row.actor_aad_object_id == ALEX.aad_object_id


async def test_publishing_announces_to_earlier_participants(bot: BotClient, engine: Database) -> None:
    await _register(bot, MEGAN, 1, engine)
    await _register(bot, numbered_user(1), 2, engine)
    await _create(bot)
    card = await bot.say_in_channel("publish 9")
    assert "2 tidigare deltagare får veta det" in all_text(card)
    again = await bot.say_in_channel("publish 9")  # already published: nothing more is queued
    assert "Publicerad" in all_text(again)
    async with engine.connect() as conn:
        kinds = (
            (await conn.execute(select(tables.outbox.c.kind).where(tables.outbox.c.kind != "confirmation")))
            .scalars()
            .all()
        )
    assert kinds == ["announcement", "announcement"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({f.END: "08:30"}, "Slutar: träffen måste sluta efter att den börjar."),
        ({f.DEADLINE: "2027-03-06"}, "Sista anmälningsdag: sista anmälningsdag får inte vara efter träffen."),
        ({f.DATE: "2026-01-09"}, "Datum: träffen måste ligga i framtiden."),
        ({f.DATE: "5 mars"}, "Datum: skriv datumet som ÅÅÅÅ-MM-DD."),
        ({f.START: "nio"}, "Börjar: skriv tiden som TT:MM."),
        ({f.TITLE: "   "}, "Titel eller tema: fyll i det här."),
        ({f.AFTER_TALK_END: "11:00"}, "Eftersnacket slutar: eftersnacket måste sluta efter träffen."),
        ({f.CAPACITY: "många"}, "Antal platser: ett heltal från 1 till 10 000."),
        ({f.CAPACITY: "0"}, "Antal platser: ett heltal från 1 till 10 000."),
    ],
)
async def test_every_validation_error_is_explained_and_nothing_is_saved(
    bot: BotClient, engine: Database, changes: dict[str, str], message: str
) -> None:
    sessions_before = await _count(engine, tables.sessions)
    card = await _create(bot, **changes)
    text = all_text(card)
    assert message in text
    assert "Ny lärträff" in text, "the form comes back with what was typed"
    assert sessions_before == await _count(engine, tables.sessions)
    assert await _count(engine, tables.audit_log) == 0


async def test_capacity_below_the_registered_is_refused(bot: BotClient, engine: Database) -> None:
    for n in range(3):
        await _register(bot, numbered_user(n), 1, engine)
    edit = await bot.say_in_channel("ändra 1")
    values = form_values(edit)
    card = await bot.click_in_channel(verbs.ORG_SAVE, {**values, verbs.NUMBER: 1, f.CAPACITY: "2"})
    assert "Antal platser: fler än så har redan anmält sig." in all_text(card)
    ok = await bot.click_in_channel(verbs.ORG_SAVE, {**values, verbs.NUMBER: 1, f.CAPACITY: "3"})
    assert "Ändringarna är sparade" in all_text(ok)


async def test_non_organisers_and_other_channels_are_refused_politely(
    bot: BotClient, engine: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    refused = await bot.say_in_channel("ny träff", MEGAN)
    assert "det kan bara seriens arrangörer göra" in all_text(refused)
    card = await bot.click_in_channel(verbs.ORG_SAVE, {verbs.NUMBER: 0, **FORM}, MEGAN)
    assert "det kan bara seriens arrangörer göra" in all_text(card)
    elsewhere = await bot.say_in_channel("publicera 1", ALEX, channel="channel-ops-id")
    assert "tar jag emot i arrangörernas kanal" in all_text(elsewhere)
    english = User("guest", "aad-guest", "Guest", locale="en-US")
    assert "only the series' organisers can do that" in all_text(await bot.say("new session", english))
    assert await _count(engine, tables.sessions) == 8
    assert await _count(engine, tables.audit_log) == 0
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 4
    assert all(MEGAN.name not in r.getMessage() for r in refusals)


async def test_organiser_commands_work_in_a_personal_chat(bot: BotClient) -> None:
    card = await bot.say("statistik")
    assert "Statistik: Lärprojekt innovation" in all_text(card)


async def test_participants_list_is_complete_and_paginated(bot: BotClient, engine: Database, clock: FakeClock) -> None:
    edit = await bot.say_in_channel("ändra 1")
    values = form_values(edit)
    await bot.click_in_channel(verbs.ORG_SAVE, {**values, verbs.NUMBER: 1, f.CAPACITY: "30"})
    for n in range(40):
        clock.current += timedelta(seconds=1)
        await _register(bot, numbered_user(n), 1, engine)
    async with engine.connect() as conn:
        session_id = (
            await conn.execute(select(tables.sessions.c.id).where(tables.sessions.c.number == 1))
        ).scalar_one()
    await bot.click(verbs.ABSENCE, {"session": session_id, verbs.REASON: "Sjuk"}, numbered_user(0))
    first = await bot.say_in_channel("deltagare 1")
    text = all_text(first)
    assert "Anmälda per organisation" in text
    assert "Kiruna kommun" in text
    assert "Sida 1 av 2" in text
    facts = {f_["title"]: f_["value"] for e in first["body"] if e["type"] == "FactSet" for f_ in e["facts"]}
    assert (facts["Anmälda"], facts["Väntelista"], facts["Förhinder"]) == ("30", "9", "1")
    second = await bot.click_in_channel(verbs.ORG_PARTICIPANTS, action_titled(first, "Nästa")["data"])
    text = all_text(second)
    assert "Sida 2 av 2" in text
    assert "1. Deltagare 31" in text, "the waiting list in order: number 30 moved up when number 0 could not come"
    assert "Deltagare 0 · Kiruna kommun · Strateg · ”Sjuk”" in text


async def test_export_holds_exactly_the_registrations(bot: BotClient, engine: Database, clock: FakeClock) -> None:
    people = [User(f"u{n}", f"aad-x{n}", name, "sv-SE") for n, name in enumerate(["Åsa Öberg", "Björn Ärlig", "=cmd"])]
    for person in people:
        await _register(bot, person, 1, engine)
    async with engine.connect() as conn:
        session_id = (
            await conn.execute(select(tables.sessions.c.id).where(tables.sessions.c.number == 1))
        ).scalar_one()
    await bot.click(verbs.ABSENCE, {"session": session_id, verbs.REASON: "Förkyld, tyvärr"}, people[1])
    card = await bot.say_in_channel("exportera 1")
    assert "Lärträff 1:" in all_text(card), "the card names what the file holds"
    url = next(a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl")
    token = url.rsplit("/exports/", 1)[1]
    assert len(token) >= 40
    assert "Åsa" not in url
    assert "aad" not in url
    async with bot.http.get(bot.server.make_url(f"/exports/{token}")) as response:
        assert response.status == 200
        assert response.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert 'filename="larprojekt-innovation-1-' in response.headers["Content-Disposition"]
        data = await response.read()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:9] == (
        "Lärträff",
        "Datum",
        "Namn",
        "E-post",
        "Organisation",
        "Roll",
        "Status",
        "Eftersnack",
        "Anledning",
    )
    assert {c.data_type for row in sheet.iter_rows(min_row=2, min_col=3, max_col=3) for c in row} == {"s"}, (
        "=cmd is text, not a formula"
    )
    got = sorted((r[0], r[2], r[4], r[6], r[7], r[8] or "") for r in rows[1:])
    assert got == sorted(
        [
            (1, "Åsa Öberg", "Kiruna kommun", "anmäld", "Ja", ""),
            (1, "Björn Ärlig", "Kiruna kommun", "förhinder", "Ja", "Förkyld, tyvärr"),
            (1, "=cmd", "Kiruna kommun", "anmäld", "Ja", ""),
        ]
    )
    clock.current += timedelta(hours=2)
    async with bot.http.get(bot.server.make_url(f"/exports/{token}")) as response:
        assert response.status == 410
    async with bot.http.get(bot.server.make_url("/exports/guess")) as response:
        assert response.status == 410


async def test_cancel_tells_registrants_and_hides_the_session(bot: BotClient, engine: Database) -> None:
    await _register(bot, MEGAN, 1, engine)
    form = await bot.say_in_channel("ställ in 1")
    assert "Vill du ställa in" in all_text(form), "without a reason, the form asks for one"
    card = await bot.say_in_channel("ställ in 1 Föreläsaren är sjuk")
    text = all_text(card)
    assert "Inställd. 1 person får veta det." in text
    assert "Föreläsaren är sjuk" in text
    assert "Lärträff 1" not in all_text(await bot.say("träffar", MEGAN))
    async with engine.connect() as conn:
        outbox = (await conn.execute(select(tables.outbox).where(tables.outbox.c.kind != "confirmation"))).one()
    assert (outbox.kind, outbox.payload) == ("session_cancelled", {"reason": "Föreläsaren är sjuk"})
    again = await bot.say_in_channel("ställ in 1 igen")
    assert "Lärträff 1 är inställd" in all_text(again)


async def test_message_and_link(bot: BotClient, engine: Database) -> None:
    await _register(bot, MEGAN, 1, engine)
    await _register(bot, numbered_user(1), 1, engine)
    sent = await bot.say_in_channel("meddela 1 Välkomna! Ta med en fråga.")
    assert "Ditt meddelande går till 2 anmälda." in all_text(sent)
    empty = await bot.say_in_channel("meddela 1")
    assert "Skriv meddelandet efter träffens nummer" in all_text(empty)
    bad = await bot.say_in_channel("länk 1 https://zoom.us/j/123")
    assert "Det är ingen länk till ett Teams-möte" in all_text(bad)
    url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d"
    ok = await bot.say_in_channel(f"länk 1 {url}")
    assert "Möteslänken är sparad; 2 anmälda får den." in all_text(ok)
    async with engine.connect() as conn:
        join_url = (
            await conn.execute(select(tables.sessions.c.join_url).where(tables.sessions.c.number == 1))
        ).scalar_one()
        kinds = sorted(
            (await conn.execute(select(tables.outbox.c.kind).where(tables.outbox.c.kind != "confirmation"))).scalars()
        )
    assert join_url == url
    assert kinds == ["join_link", "join_link", "organiser_message", "organiser_message"]
    missing = await bot.say_in_channel("länk 77 " + url)
    assert "Det finns ingen lärträff 77 i serien" in all_text(missing)


async def test_stats_audit_and_organisers(bot: BotClient, engine: Database) -> None:
    await _register(bot, MEGAN, 1, engine)
    await _create(bot)
    stats = await bot.say_in_channel("statistik")
    text = all_text(stats)
    assert "Kiruna kommun" in text
    assert re.search(r"Lärträff 1, \w+dag \d+ \w+ 20\d\d", text), "the number with the date and the year"
    assert "1 anmäld · 1 stannar på eftersnacket" in text
    assert text.index("Publicerade") < text.index("Utkast") < text.index("Lärträff 9, "), "the new draft apart"
    assert "Alex Wilber skapade lärträff 9" in all_text(await bot.say_in_channel("logg"))

    add = await bot.say_in_channel(f"lägg till arrangör {MEGAN.aad_object_id}")
    assert "Arrangören är tillagd" in all_text(add)
    assert "Ny lärträff" in all_text(await bot.say_in_channel("ny träff", MEGAN)), "Megan may organise now"
    listed = all_text(await bot.say_in_channel("arrangörer"))
    assert "Megan Bowen" in listed
    assert "lägg till arrangör @namn" in listed
    bad = await bot.say_in_channel("lägg till arrangör megan")
    assert "Något i förfrågan stämde inte" in all_text(bad)
    removed = await bot.say_in_channel(f"ta bort arrangör {MEGAN.aad_object_id}")
    assert "Arrangören är borttagen" in all_text(removed)
    assert "det kan bara seriens arrangörer göra" in all_text(await bot.say_in_channel("ny träff", MEGAN))


async def test_organisers_are_added_and_removed_by_mentioning_them(bot: BotClient, engine: Database) -> None:
    bot.connector.object_ids[MEGAN.id] = MEGAN.aad_object_id
    added = await bot.say_in_channel("lägg till arrangör", mentions=[MEGAN])
    assert "Arrangören är tillagd" in all_text(added)
    assert bot.connector.members_asked == [("team-id", MEGAN.id)], "asked of the team, not of the thread"
    assert "Ny lärträff" in all_text(await bot.say_in_channel("ny träff", MEGAN)), "Megan may organise now"
    removed = await bot.say_in_channel("ta bort arrangör", mentions=[MEGAN])
    assert "Arrangören är borttagen" in all_text(removed)

    # Never written to the bot: the list names them as Teams showed them.
    newcomer = User("user-new", "00000000-0000-0000-0000-0000000000066", "Nina Nykomling")
    bot.connector.object_ids[newcomer.id] = newcomer.aad_object_id
    await bot.say_in_channel("lägg till arrangör", mentions=[newcomer])
    assert f"Nina Nykomling · {newcomer.aad_object_id}" in all_text(await bot.say_in_channel("arrangörer"))
    await bot.say_in_channel(f"ta bort arrangör {newcomer.aad_object_id}")

    stranger = numbered_user(5)  # Teams gives no object id for them
    unknown = await bot.say_in_channel("lägg till arrangör", mentions=[stranger])
    assert "Teams berättade inte vem Deltagare 5 är" in all_text(unknown)
    refused = await bot.say_in_channel("lägg till arrangör", MEGAN, mentions=[MEGAN])
    assert "det kan bara seriens arrangörer göra" in all_text(refused), "who may ask still comes first"
    assert await _count(engine, tables.organisers) == 0


async def test_an_organiser_can_move_commands_to_another_channel(bot: BotClient) -> None:
    moved = await bot.say_in_channel("använd den här kanalen", channel="channel-ops-id")
    assert "Från och med nu tar jag emot arrangörskommandon i den här kanalen" in all_text(moved)
    assert "Statistik" in all_text(await bot.say_in_channel("statistik", channel="channel-ops-id"))
    old = await bot.say_in_channel("statistik", channel="team-id")
    assert "tar jag emot i arrangörernas kanal" in all_text(old)


async def test_bad_command_arguments_get_the_organiser_help(bot: BotClient) -> None:
    card = await bot.say_in_channel("publicera tre")
    assert "Jag kunde inte läsa kommandot" in all_text(card)
    assert any(a["verb"] == verbs.ORG_HELP or a["verb"] == verbs.ORG_NEW_SESSION for a in actions(card))


async def test_a_cancelled_session_s_places_count_for_no_municipality(bot: BotClient, engine: Database) -> None:
    await _create(bot, **{f.CAPACITY: ""})  # no limit
    await bot.say_in_channel("publicera 9")
    for user, organisation in ((MEGAN, "Kiruna kommun"), (numbered_user(1), "Luleå kommun")):
        session_id = (await session_ids(engine))[9]
        profile = {verbs.ORGANISATION: organisation, verbs.ROLE: "Strateg"}
        await bot.click(verbs.REGISTER, {"session": session_id, **profile}, user)
    before = all_text(await bot.say_in_channel("statistik"))
    assert "Kiruna kommun: 1" in before
    assert "Luleå kommun: 1" in before
    await bot.say_in_channel("ställ in 9 Föreläsaren är sjuk")
    after = all_text(await bot.say_in_channel("statistik"))
    assert "Kiruna kommun" not in after
    assert "Luleå kommun" not in after
    assert after.index("Inställda") < after.index("Lärträff 9, "), "the session itself is shown, apart"


async def test_the_series_export_has_its_statistics_with_excel_charts(bot: BotClient, engine: Database) -> None:
    import zipfile
    from xml.etree import ElementTree

    await _register(bot, MEGAN, 1, engine)
    await _register(bot, numbered_user(1), 2, engine)
    await bot.click(verbs.ABSENCE, {"session": (await session_ids(engine))[2]}, numbered_user(1))
    card = await bot.say_in_channel("exportera")
    url = next(a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl")
    async with bot.http.get(bot.server.make_url("/exports/" + url.rsplit("/exports/", 1)[1])) as response:
        data = await response.read()
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames[-1] == "Statistik"
    rows = list(book["Statistik"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Lärträff", "Datum", "Anmälda", "Väntelista", "Förhinder")
    assert [r[0] for r in rows[1:3]] == ["Lärträff 1", "Lärträff 2"], "the published sessions, drafts left out"
    assert [r[2:5] for r in rows[1:3]] == [(1, 0, 0), (0, 0, 1)]
    assert ("Organisation", "Anmälda platser") in [r[:2] for r in rows]
    assert ("Kiruna kommun", 1) in [r[:2] for r in rows]
    chart = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
    with zipfile.ZipFile(io.BytesIO(data)) as xlsx:
        names = sorted(n for n in xlsx.namelist() if n.startswith("xl/charts/chart"))
        charts = [ElementTree.fromstring(xlsx.read(name)) for name in names]
    assert len(charts) == 2, "Excel's own charts, not pictures"
    directions = [c.find(f".//{chart}barDir").get("val") for c in charts]  # type: ignore[union-attr]
    assert directions == ["col", "bar"]
    references = [f.text for f in charts[0].iter(f"{chart}f")]
    assert "'Statistik'!$C$2:$C$3" in references, "the registered, live from the sheet"
    assert "'Statistik'!$A$2:$A$3" in references, "the sessions as categories"


async def test_a_copy_is_the_form_filled_a_week_later_and_saved_as_a_new_draft(
    bot: BotClient, engine: Database
) -> None:
    await _create(bot)
    drafts_before = await _count(engine, tables.sessions)
    copy = await bot.say_in_channel("kopiera 9")
    assert "En kopia av lärträff 9" in all_text(copy)
    values = form_values(copy)
    assert (values[f.DATE], values[f.DEADLINE]) == ("2027-03-12", "2027-03-05"), "a week later, same weekday"
    assert (values[f.TITLE], values[f.START], values[f.END]) == (FORM[f.TITLE], "09:00", "11:30")
    assert values[f.PROGRAMME].splitlines()[1] == "Digital välfärd | Anna Andersson, Digg"
    assert await _count(engine, tables.sessions) == drafts_before, "nothing is saved until the form is"
    save = action_titled(copy, "Skapa utkast")
    saved = await bot.click_in_channel(save["verb"], {**save["data"], **values})
    assert "Lärträff 10: Lärträff 9 – digital välfärd" in all_text(saved)
    assert "Utkast: syns inte för deltagarna" in all_text(saved)
    async with engine.connect() as conn:
        copied = (await conn.execute(select(tables.sessions).where(tables.sessions.c.number == 10))).one()
    assert copied.status == "draft"
    assert copied.capacity == 40
    # The admin card offers the copy by button, in both languages' words.
    assert action_titled(saved, "Kopiera")["verb"] == verbs.ORG_COPY
    unknown = all_text(await bot.say_in_channel("kopiera 99"))
    assert "Det finns ingen lärträff 99 i serien" in unknown
