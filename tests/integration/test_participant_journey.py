"""The participant's journey over real HTTP, as Teams posts it, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot.storage import tables
from bot.storage.engine import Database
from cards import verbs
from tests.integration.harness import ALEX, MEGAN, BotClient, User, action_titled, actions, all_text, session_ids


async def test_welcome_on_install_lists_the_coming_sessions(bot: BotClient) -> None:
    status, _ = await bot.post(bot.activities.install())
    assert status == 200
    text = all_text(bot.connector.last_card())
    assert "Välkommen till Lärprojekt innovation" in text
    assert "Lärträff 1: Lärprojekt innovation – första lärträffen" in text
    assert "kl. 09.00–11.30" in text


async def test_swedish_journey_register_report_absence_and_see_it_in_mina(
    bot: BotClient, engine: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    ids = await session_ids(engine)
    card = await bot.say("träffar")
    text = all_text(card)
    assert "Kommande lärträffar" in text
    assert "fredag" in text
    assert "kl. 09.00–11.30" in text
    assert "Lärträff 3" not in text, "drafts are not shown to participants"

    register = action_titled(card, "Anmäl mig")
    assert register["verb"] == verbs.REGISTER
    assert register["data"]["session"] == ids[1]

    # First registration asks who you are.
    profile = await bot.click(verbs.REGISTER, {"session": ids[1], verbs.after_talk_input(ids[1]): "true"})
    assert "Första gången berättar du var du arbetar" in all_text(profile)
    choices = next(e for e in profile["body"] if e.get("id") == verbs.ORGANISATION)["choices"]
    assert [c["title"] for c in choices][:2] == ["Arjeplogs kommun", "Arvidsjaurs kommun"]
    assert len(choices) == 15  # the 14 municipalities and "other"

    confirmed = await bot.click(
        verbs.REGISTER,
        {
            "session": ids[1],
            verbs.ORGANISATION: "Pajala kommun",
            verbs.ROLE: "Utvecklingsstrateg",
            verbs.AFTER_TALK: "true",
        },
    )
    assert "✅ Du är anmäld, även till eftersnacket." in all_text(confirmed)

    absence_form = await bot.click(verbs.ABSENCE_FORM, {"session": ids[1]})
    assert "Skriv inget om din hälsa" in all_text(absence_form)
    absent = await bot.click(verbs.ABSENCE, {"session": ids[1], verbs.REASON: "Krockar med KF-sammanträde"})
    assert "Du har meddelat förhinder. Anledning: Krockar med KF-sammanträde" in all_text(absent)

    mine = await bot.say("mina")
    text = all_text(mine)
    assert "Mina anmälningar" in text
    assert "Lärträff 1" in text
    assert "Krockar med KF-sammanträde" in text

    async with engine.connect() as conn:
        person = (await conn.execute(select(tables.people))).one()
        registration = (await conn.execute(select(tables.registrations))).one()
    assert (person.organisation, person.role) == ("Pajala kommun", "Utvecklingsstrateg")
    assert person.email == "user-id-0@example.com", "the e-mail comes from Teams"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for personal in ("Alex Wilber", "example.com", "Krockar", "Utvecklingsstrateg", "Pajala"):
        assert personal not in logged, "no personal data in logs"
    assert (registration.status, registration.absence_reason, registration.after_talk) == (
        "absent",
        "Krockar med KF-sammanträde",
        True,
    )


async def test_profile_is_asked_once(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    await bot.click(
        verbs.REGISTER,
        {
            "session": ids[1],
            verbs.ORGANISATION: verbs.OTHER_ORGANISATION,
            verbs.ORGANISATION_OTHER: "Region Norrbotten",
            verbs.ROLE: "Samordnare",
        },
    )
    card = await bot.click(verbs.REGISTER, {"session": ids[2]})
    assert "✅ Du är anmäld" in all_text(card), "a known person registers with one click"


async def test_english_locale_and_language_switch(bot: BotClient) -> None:
    guest = User("guest", "aad-guest", "Guest Speaker", locale="en-US")
    card = await bot.say("sessions", guest)
    text = all_text(card)
    assert "Coming sessions" in text
    assert "09:00–11:30 Swedish time" in text
    switched = await bot.click(verbs.LANGUAGE, {"language": "sv"}, guest)
    assert "Välkommen till Lärprojekt innovation" in all_text(switched)
    assert "Kommande lärträffar" in all_text(await bot.say("sessions", guest)), "the choice is remembered"


async def test_unknown_text_gets_short_help_not_an_error(bot: BotClient) -> None:
    card = await bot.say("vad är klockan?")
    text = all_text(card)
    assert "Jag förstod inte ”vad är klockan?”" in text
    assert "träffar" in text


async def test_submit_fallback_is_routed_like_execute(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    status, _ = await bot.post(bot.activities.submit(verbs.DETAILS, {"session": ids[1]}))
    assert status == 200
    text = all_text(bot.connector.last_card())
    assert "Klas Danerlöv, Sveriges Kommuner och Regioner (SKR)" in text
    assert "Ingen avgift" in text


async def test_details_show_the_whole_programme(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    text = all_text(await bot.click(verbs.DETAILS, {"session": ids[1]}))
    for expected in (
        "Inledning - om Lärprojektet",
        "Johan Hörnemalm och Catarina Lundqvist, Norrbottens Kommuner",
        "”Snacka om att tänka nytt” – regional kartläggning och lokalt innovationsarbete",
        "Mikael Sturk, Pajala kommun",
        "Reflekterande dialog",
        "11.30–12.00 (frivilligt)",
        "Teams (länken skickas till dem som har anmält sig)",
        "marie.malkan@kfbd.se",
        "070-693 54 78",
        "Medverkande",
        "Benitha Eliasson, Norrbottens Kommuner",
        "Om Lärprojekt innovation",
        "Lärprojektet syftar till erfarenhetsutbyte och lärande i innovationsfrågor.",
        "johan.hornemalm@kfbd.se",
        "Målgrupp",
    ):
        assert expected in text


async def test_redelivered_activity_changes_nothing_twice(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    await bot.click(verbs.REGISTER, {"session": ids[1], verbs.ORGANISATION: "Luleå kommun", verbs.ROLE: "Chef"})
    withdraw = bot.activities.invoke(verbs.WITHDRAW, {"session": ids[1]})
    first = await bot.post(withdraw)
    again = await bot.post(withdraw)
    assert first[0] == again[0] == 200
    message = bot.activities.message("träffar")
    before = len(bot.connector.received)
    await bot.post(message)
    await bot.post(message)
    assert len(bot.connector.received) == before + 1, "a redelivered message is answered once"
    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(tables.registrations))).scalar_one()
        status = (await conn.execute(select(tables.registrations.c.status))).scalar_one()
    assert (count, status) == (1, "withdrawn")


async def test_double_click_registers_once(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    data = {"session": ids[1], verbs.ORGANISATION: "Luleå kommun", verbs.ROLE: "Chef"}
    await bot.click(verbs.REGISTER, data)
    second = await bot.click(verbs.REGISTER, data)
    assert "✅ Du är anmäld" in all_text(second)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(tables.registrations))).scalar_one() == 1


async def test_channel_message_points_to_personal_chat(bot: BotClient) -> None:
    status, _ = await bot.post(bot.activities.channel_message("träffar"))
    assert status == 200
    assert "Anmälan är personlig" in all_text(bot.connector.last_card())


async def test_person_is_recorded_from_teams_identity(bot: BotClient, engine: Database) -> None:
    await bot.say("hej")
    install = bot.activities.install()  # carries neither name nor locale in some clients
    install["from"].pop("name", None)
    install.pop("locale")
    await bot.post(install)
    async with engine.connect() as conn:
        person = (await conn.execute(select(tables.people))).one()
    assert (person.aad_object_id, person.name, person.teams_locale) == (ALEX.aad_object_id, ALEX.name, "sv-SE")


async def test_registration_works_when_teams_does_not_give_the_email(bot: BotClient, engine: Database) -> None:
    bot.connector.member_status = 404
    ids = await session_ids(engine)
    card = await bot.click(verbs.REGISTER, {"session": ids[1], verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Chef"})
    assert "✅ Du är anmäld" in all_text(card)
    assert bot.connector.member_requests == 1
    await bot.click(verbs.REGISTER, {"session": ids[2]})
    assert bot.connector.member_requests == 1, "asked only with the profile form"


@pytest.mark.parametrize(
    ("cause", "written", "stated"),
    [
        ("travel", "", "Resa"),
        ("clash", "  KF-sammanträde ", "Krockar med något annat: KF-sammanträde"),
        ("other", "Vi har inspektion", "Annat: Vi har inspektion"),
    ],
)
async def test_can_t_come_is_a_choice_that_invites_no_health_data(
    bot: BotClient, engine: Database, cause: str, written: str, stated: str
) -> None:
    ids = await session_ids(engine)
    await bot.click(verbs.REGISTER, {"session": ids[1], verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Rektor"})
    form = await bot.click(verbs.ABSENCE_FORM, {"session": ids[1]})
    choices = next(e for e in form["body"] if e.get("id") == verbs.CAUSE)["choices"]
    assert [c["title"] for c in choices] == ["Krockar med något annat", "Resa", "Annat"]
    assert "sjuk" not in all_text(form).lower(), "no example that invites health data"
    assert "Skriv inget om din hälsa eller annat känsligt" in all_text(form)
    absent = await bot.click(verbs.ABSENCE, {"session": ids[1], verbs.CAUSE: cause, verbs.REASON: written})
    assert f"Du har meddelat förhinder. Anledning: {stated}" in all_text(absent)
    async with engine.connect() as conn:
        assert (await conn.execute(select(tables.registrations.c.absence_reason))).scalar_one() == stated


async def test_can_t_come_arrives_as_a_submit_message_from_a_phone(bot: BotClient, engine: Database) -> None:
    """Teams on phones sends the card's Action.Submit fallback as a message with the inputs in its value."""
    ids = await session_ids(engine)
    await bot.click(verbs.REGISTER, {"session": ids[1], verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Rektor"})
    data = {"session": ids[1], verbs.CAUSE: "travel", verbs.REASON: "Mässa i Umeå"}
    status, _ = await bot.post(bot.activities.submit(verbs.ABSENCE, data))
    assert status == 200
    assert "Du har meddelat förhinder. Anledning: Resa: Mässa i Umeå" in all_text(bot.connector.last_card())


async def test_can_t_come_in_english(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    english = User("user-en", "00000000-0000-0000-0000-00000000e1e1", "Eve English", "en-US")
    await bot.click(verbs.REGISTER, {"session": ids[1], verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Rektor"},
                    english)  # fmt: skip
    form = await bot.click(verbs.ABSENCE_FORM, {"session": ids[1]}, english)
    choices = next(e for e in form["body"] if e.get("id") == verbs.CAUSE)["choices"]
    assert [c["title"] for c in choices] == ["Clashes with something else", "Travelling", "Something else"]
    assert "Please don't write about your health" in all_text(form)
    absent = await bot.click(verbs.ABSENCE, {"session": ids[1], verbs.CAUSE: "clash"}, english)
    assert "Clashes with something else" in all_text(absent)


async def test_an_unknown_cause_is_refused_and_changes_nothing(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    await bot.click(verbs.REGISTER, {"session": ids[1], verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Rektor"})
    refused = await bot.click(verbs.ABSENCE, {"session": ids[1], verbs.CAUSE: "sjukdom"})
    assert "inget ändrades" in all_text(refused)
    async with engine.connect() as conn:
        assert (await conn.execute(select(tables.registrations.c.status))).scalar_one() == "registered"


async def test_a_change_made_on_the_second_page_of_mine_answers_with_that_page(
    bot: BotClient, engine: Database
) -> None:
    for number in range(3, 9):
        await bot.say_in_channel(f"publicera {number}")
    ids = await session_ids(engine)
    profile = {verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Strateg"}
    for number in range(1, 9):
        await bot.click(verbs.REGISTER, {"session": ids[number], **profile}, MEGAN)
    second = await bot.click(verbs.MINE, {"page": 1}, MEGAN)
    assert "Sida 2 av 2" in all_text(second)
    withdraw = next(
        a for a in actions(second) if a.get("verb") == verbs.WITHDRAW_ASK and a["data"]["session"] == ids[8]
    )
    question = await bot.click(verbs.WITHDRAW_ASK, withdraw["data"], MEGAN)
    yes = next(a for a in actions(question) if a.get("verb") == verbs.WITHDRAW)
    after = await bot.click(verbs.WITHDRAW, yes["data"], MEGAN)
    assert "Sida 2 av 2" in all_text(after), "the page the click was made on, not the first"
