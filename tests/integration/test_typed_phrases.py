"""What people write instead of pressing a button, over HTTP on SQLite and PostgreSQL: the phrase does what the
button does, for the session its number names or the only one that fits; otherwise a short card asks which."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage import tables
from bot.storage.engine import Database
from cards import verbs
from tests.integration.harness import MEGAN, BotClient, User, actions, all_text, inputs, session_ids


async def test_phrases_do_what_the_buttons_do(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    which = await bot.say("anmäl mig", MEGAN)
    assert "Vilken lärträff menar du?" in all_text(which)
    assert [(a["verb"], a["data"]["session"]) for a in actions(which)] == [
        (verbs.REGISTER, ids[1]), (verbs.REGISTER, ids[2])
    ]  # fmt: skip

    form = await bot.say("anmal mig till lärträff 1!", MEGAN)
    assert "Första gången berättar du var du arbetar" in all_text(form)
    profile = {"session": ids[1], verbs.ORGANISATION: "Luleå kommun", verbs.ROLE: "Chef"}
    await bot.click(verbs.REGISTER, profile, MEGAN)
    assert "✅ Du är anmäld" in all_text(await bot.say("Anmäl mig 2", MEGAN)), "the profile is known: one step"

    assert "Vilken lärträff menar du?" in all_text(await bot.say("kan inte komma", MEGAN))
    assert "Skriv inget om din hälsa" in all_text(await bot.say("kan inte komma på lärträff 1", MEGAN))
    assert "Vill du avanmäla dig från lärträff 2?" in all_text(await bot.say("avanmäl mig 2", MEGAN))
    assert "Klas Danerlöv" in all_text(await bot.say("detaljer 1", MEGAN))
    nothing = all_text(await bot.say("anmäl mig 2", MEGAN))
    assert "Just nu finns ingen lärträff som passar" in nothing, "already registered for 2"
    assert "inte öppen för anmälan" in all_text(await bot.say("anmäl mig 7", MEGAN)), "a draft is no session"


async def test_small_talk_and_the_people_to_ask(bot: BotClient) -> None:
    assert "Varsågod!" in all_text(await bot.say("Tack så mycket!", MEGAN))
    assert "You're welcome!" in all_text(await bot.say("thanks", User("u-en", "aad-en", "Eve", "en-GB")))
    lost = await bot.say("när börjar det?", MEGAN)
    text = all_text(lost)
    assert "Jag förstod inte" in text
    assert "[marie.malkan@kfbd.se](mailto:marie.malkan@kfbd.se)" in text
    assert "[070-693 54 78](tel:070-6935478)" in text


async def test_a_refused_first_registration_keeps_what_was_typed_and_names_the_problem(
    bot: BotClient, engine: Database
) -> None:
    ids = await session_ids(engine)
    data = {"session": ids[1], verbs.ORGANISATION: verbs.OTHER_ORGANISATION, verbs.ORGANISATION_OTHER: " ",
            verbs.ROLE: "Rektor"}  # fmt: skip
    again = await bot.click(verbs.REGISTER, data, MEGAN)
    assert "Du valde Annan – skriv vilken organisation du arbetar på." in all_text(again)
    values = {i["id"]: i.get("value") for i in inputs(again)}
    assert values[verbs.ORGANISATION] == verbs.OTHER_ORGANISATION, "the choice stays"
    assert values[verbs.ROLE] == "Rektor", "what was typed stays"
    no_role = await bot.click(verbs.REGISTER, {"session": ids[1], verbs.ORGANISATION: "Kiruna kommun"}, MEGAN)
    assert "Skriv din roll" in all_text(no_role)
    assert {i["id"]: i.get("value") for i in inputs(no_role)}[verbs.ORGANISATION] == "Kiruna kommun"
    async with engine.connect() as conn:
        assert (await conn.execute(select(tables.registrations))).all() == [], "nothing was registered"
