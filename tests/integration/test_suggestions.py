"""Participants suggest themes for coming sessions; organisers read them in their channel. Over HTTP,
on SQLite and PostgreSQL ("Lärträffarnas teman och innehåll medskapas av de som deltar")."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
from sqlalchemy import func, select

from bot.domain.model import MAX_SUGGESTION
from bot.jobs.delivery import DeliveryWorker
from bot.jobs.scheduler import Scheduler, ScheduleSettings
from bot.services.organisers import SUGGESTIONS_PAGE
from bot.storage import tables
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWorkFactory
from cards import verbs
from tests.conftest import FakeClock
from tests.integration.harness import (
    ALEX,
    MEGAN,
    BotClient,
    action_titled,
    actions,
    all_text,
    form_values,
    inputs,
    numbered_user,
    session_ids,
)


async def _texts(engine: Database) -> list[str]:
    async with engine.connect() as conn:
        s = tables.theme_suggestions
        return list((await conn.execute(select(s.c.text).order_by(s.c.id))).scalars())


async def _with_profile(bot: BotClient, engine: Database) -> None:
    """Megan registers once, so that organisers see her organisation beside her suggestions."""
    ids = await session_ids(engine)
    data = {"session": ids[1], verbs.ORGANISATION: "Pajala kommun", verbs.ROLE: "Strateg"}
    assert "✅ Du är anmäld" in all_text(await bot.click(verbs.REGISTER, data, MEGAN))


async def test_suggest_in_a_sentence_or_with_the_form_and_organisers_read_it(bot: BotClient, engine: Database) -> None:
    await _with_profile(bot, engine)

    thanks = await bot.say("Förslag: Hur når vi unga vuxna med   digitala tjänster?", MEGAN)
    assert "Tack! Ditt förslag har gått till arrangörerna." in all_text(thanks)
    assert "Arrangörerna ser ditt namn och din organisation" in all_text(thanks), "said where no form said it"

    form = await bot.say("förslag", MEGAN)  # the word alone: the form
    assert "Lärträffarnas teman och innehåll medskapas av er som deltar" in all_text(form)
    assert [i["id"] for i in inputs(form)] == [verbs.TEXT]
    send = action_titled(form, "Skicka förslaget")
    assert send["verb"] == verbs.SUGGEST
    sent = {**form_values(form), verbs.TEXT: "Innovativ samverkan\nför lokalsamhället"}
    assert "Tack!" in all_text(await bot.click(send["verb"], sent, MEGAN))
    assert "Tack!" in all_text(await bot.click(send["verb"], sent, MEGAN))  # a second click keeps nothing new

    assert await _texts(engine) == [
        "Hur når vi unga vuxna med digitala tjänster?",
        "Innovativ samverkan för lokalsamhället",
    ]
    seen = all_text(await bot.say_in_channel("förslagen"))
    assert "2 förslag från deltagarna, nyaste först" in seen
    assert seen.index("Innovativ samverkan") < seen.index("Hur når vi unga vuxna")
    assert "Megan Bowen, Pajala kommun" in seen


async def test_in_english_too(bot: BotClient, engine: Database) -> None:
    guest = numbered_user(7, "en-GB")
    assert "Your suggestion has gone to the organisers" in all_text(await bot.say("suggest: AI in schools", guest))
    seen = all_text(await bot.say("suggestions"))  # Alex organises, in a 1:1 chat too, and writes Swedish
    assert "Förslag på teman" in seen
    assert "AI in schools" in seen
    assert await _texts(engine) == ["AI in schools"]


async def test_bad_input_changes_nothing_and_says_why(bot: BotClient, engine: Database) -> None:
    too_long = "x" * (MAX_SUGGESTION + 1)
    again = await bot.click(verbs.SUGGEST, {verbs.TEXT: too_long}, MEGAN)
    assert f"Det är längre än {MAX_SUGGESTION} tecken" in all_text(again)
    assert form_values(again)[verbs.TEXT] == "x" * MAX_SUGGESTION, "what was written is kept to shorten"
    empty = await bot.click(verbs.SUGGEST, {verbs.TEXT: "   "}, MEGAN)
    assert [i["id"] for i in inputs(empty)] == [verbs.TEXT], "the form again"
    tampered = await bot.click(verbs.SUGGEST, {verbs.TEXT: ["not", "text"]}, MEGAN)
    assert "Något i förfrågan stämde inte, så inget ändrades" in all_text(tampered)
    assert await _texts(engine) == []

    refused = all_text(await bot.say("förslagen", MEGAN))  # only organisers read them
    assert "bara seriens arrangörer" in refused
    assert "Förslag på teman" not in refused


async def test_organisers_page_through_them_newest_first(bot: BotClient, engine: Database) -> None:
    assert "Inga förslag ännu" in all_text(await bot.say_in_channel("förslagen"))
    for n in range(SUGGESTIONS_PAGE + 2):
        await bot.say(f"förslag Tema {n}", numbered_user(n))

    first = await bot.say_in_channel("förslagen")
    shown = all_text(first)
    assert f"Tema {SUGGESTIONS_PAGE + 1}" in shown
    assert "Tema 1" not in shown
    assert "Sida 1 av 2" in shown
    assert [a["title"] for a in actions(first)] == ["Nästa"]
    second = await bot.click_in_channel(verbs.ORG_SUGGESTIONS, action_titled(first, "Nästa")["data"])
    assert [line for line in all_text(second).splitlines() if line.startswith("Tema ")] == ["Tema 1", "Tema 0"]
    assert [a["title"] for a in actions(second)] == ["Föregående"]
    stale = await bot.click_in_channel(verbs.ORG_SUGGESTIONS, {"page": 40})
    assert "Sida 2 av 2" in all_text(stale)


async def test_participants_are_invited_to_suggest(bot: BotClient, engine: Database) -> None:
    welcome = await bot.say("hej", MEGAN)
    assert "Teman och innehåll formas av er som deltar" in all_text(welcome)
    assert action_titled(welcome, "Föreslå ett tema")["verb"] == verbs.SUGGEST
    assert "förslag" in all_text(await bot.say("hjälp", MEGAN))
    assert "förslagen" in all_text(await bot.say_in_channel("arrangör", ALEX))
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(tables.theme_suggestions))).scalar_one() == 0


async def test_the_whole_series_export_holds_every_suggestion(bot: BotClient, engine: Database) -> None:
    await _with_profile(bot, engine)
    for text in ("Tema ett", '=HYPERLINK("http://example.org")', *(f"Tema {n}" for n in range(SUGGESTIONS_PAGE))):
        await bot.say(f"förslag {text}", MEGAN)

    async def workbook(command: str) -> openpyxl.Workbook:
        card = await bot.say_in_channel(command)
        url = next(a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl")
        async with bot.http.get(bot.server.make_url("/exports/" + url.rsplit("/exports/", 1)[1])) as response:
            assert response.status == 200
            return openpyxl.load_workbook(io.BytesIO(await response.read()))

    book = await workbook("exportera")
    assert book.sheetnames == ["Anmälningar", "Förslag på teman", "Statistik"]
    rows = list(book["Förslag på teman"].iter_rows(values_only=True))
    assert rows[0] == ("Datum", "Namn", "Organisation", "Förslag")
    assert len(rows) == 1 + SUGGESTIONS_PAGE + 2, "every one, not a page"
    assert rows[-2][1:] == ("Megan Bowen", "Pajala kommun", '=HYPERLINK("http://example.org")')
    assert book["Förslag på teman"].cell(len(rows) - 1, 4).data_type == "s", "shown as typed, never run as a formula"
    assert rows[-1][3] == "Tema ett"
    assert (await workbook("exportera 1")).sheetnames == ["Anmälningar"], "a session's export is its registrations"


async def test_the_organisers_hourly_digest_says_how_many_came_in(
    bot: BotClient, engine: Database, clock: FakeClock, worker: DeliveryWorker
) -> None:
    scheduler = Scheduler(SqlUnitOfWorkFactory(engine), clock, ScheduleSettings(digest_every=timedelta(hours=1)))

    async def next_hour() -> list[str]:
        clock.current += timedelta(hours=1)
        await scheduler.run_once()
        while await worker.run_once():
            pass
        return [all_text(c) for c in bot.connector.proactive_cards("team-id")]

    await bot.say_in_channel("förslagen")  # the bot learns where the organisers' channel is
    await bot.say("förslag Tema A", MEGAN)
    await bot.say("förslag Tema B", numbered_user(1))
    (digest,) = await next_hour()
    assert "2 nya förslag från deltagarna." in digest
    assert "Nya förhinder" not in digest
    assert len(await next_hour()) == 1, "nothing new, no digest"
