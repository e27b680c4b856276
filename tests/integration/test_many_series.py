"""Many series in one bot: made and run in Teams, each by its own organisers in its own channel; registering
for a whole series: every open session now, each session published later, until one leaves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.domain.model import Language, Series
from bot.jobs.delivery import DeliveryWorker
from bot.storage import tables
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork
from cards import verbs
from tests.conftest import FakeClock, seed_demo
from tests.integration.conftest import start_bot
from tests.integration.harness import (
    ALEX,
    MEGAN,
    BotClient,
    FakeConnector,
    User,
    action_titled,
    all_text,
    inputs,
    numbered_user,
    session_ids,
)
from tests.integration.test_organisers import FORM

PROFILE = {verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Strateg"}


async def _places(engine: Database, user: User) -> dict[int, str]:
    """Session number → the user's registration status."""
    r, s, p = tables.registrations, tables.sessions, tables.people
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(s.c.number, r.c.status)
            .join(r, r.c.session_id == s.c.id)
            .join(p, p.c.id == r.c.person_id)
            .where(p.c.aad_object_id == user.aad_object_id)
        )
        return {int(number): str(status) for number, status in map(tuple, rows)}


async def _outbox(engine: Database, kind: str) -> list[tuple[int, dict[str, Any]]]:
    o = tables.outbox
    async with engine.connect() as conn:
        rows = await conn.execute(select(o.c.person_id, o.c.payload).where(o.c.kind == kind).order_by(o.c.id))
        return [(int(person), dict(payload)) for person, payload in map(tuple, rows)]


async def _person_id(engine: Database, user: User) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(
            select(tables.people.c.id).where(tables.people.c.aad_object_id == user.aad_object_id)
        )
        return int(found.scalar_one())


async def _join(bot: BotClient, user: User) -> dict[str, Any]:
    """The whole series from the welcome's button: the profile first, then the answer."""
    welcome = await bot.say("hej", user)
    button = action_titled(welcome, "Anmäl mig till hela serien")
    profile = await bot.click(verbs.SERIES_REGISTER, button["data"], user)
    assert "Anmäl mig till hela serien" in all_text(profile), "the profile is asked first"
    return await bot.click(verbs.SERIES_REGISTER, {**button["data"], **PROFILE}, user)


async def test_the_whole_series_now_and_each_session_published_later(bot: BotClient, engine: Database) -> None:
    answer = await _join(bot, MEGAN)
    text = all_text(answer)
    assert "Klart – du är anmäld till hela serien" in text
    assert "Lämna serien" in text
    assert await _places(engine, MEGAN) == {1: "registered", 2: "registered"}, "both published sessions"
    assert await _outbox(engine, "confirmation") == [], "one card answers, not a message per session"
    assert "✅ Du är anmäld till hela serien" in all_text(await bot.say("träffar", MEGAN))

    # Can't come to one: that session only; the series registration and the other place stand.
    ids = await session_ids(engine)
    await bot.click(verbs.ABSENCE, {"session": ids[1], "cause": "clash"}, MEGAN)
    await bot.click(verbs.SERIES_REGISTER, {verbs.SERIES: 1}, MEGAN)  # again: the absence still holds
    assert await _places(engine, MEGAN) == {1: "absent", 2: "registered"}

    # A session published later: she is registered and told why; she gets no announcement beside it.
    await bot.click_in_channel(verbs.ORG_SAVE, {verbs.NUMBER: 0, **FORM})
    published = all_text(await bot.say_in_channel("publicera 9"))
    assert "1 person som är anmäld till hela serien har anmälts och fått besked" in published
    assert (await _places(engine, MEGAN))[9] == "registered"
    megan = await _person_id(engine, MEGAN)
    assert await _outbox(engine, "confirmation") == [(megan, {"series": True})]
    assert megan not in [person for person, _ in await _outbox(engine, "announcement")]
    # The organisers see who came by the series.
    listed = all_text(await bot.say_in_channel("deltagare 9"))
    assert "Megan Bowen · Kiruna kommun · Strateg · hela serien" in listed
    stats = await bot.say_in_channel("statistik")
    assert "1 person är anmäld till hela serien" in all_text(stats)
    (picture,) = [e for e in stats["body"] if e["type"] == "Image"]
    assert picture["url"].startswith("data:image/png;base64,"), "drawn by every client, nothing to fetch"
    assert "Stapeldiagram" in picture["altText"]

    # Leaving: her places stay, the next session published does not register her but announces itself.
    left = all_text(await bot.click(verbs.SERIES_LEAVE, {verbs.SERIES: 1}, MEGAN))
    assert "Du har lämnat serien" in left
    assert "Anmäl mig till hela serien" in left
    await bot.say_in_channel("publicera 3")
    assert 3 not in await _places(engine, MEGAN)
    assert (await _places(engine, MEGAN))[9] == "registered"
    assert (megan, {}) in await _outbox(engine, "announcement")


async def test_the_confirmation_of_a_session_published_later(
    bot: BotClient, engine: Database, worker: DeliveryWorker, connector: FakeConnector
) -> None:
    await _join(bot, MEGAN)
    await bot.click_in_channel(verbs.ORG_SAVE, {verbs.NUMBER: 0, **FORM})
    await bot.say_in_channel("publicera 9")
    while await worker.run_once():
        pass
    (message,) = [c for c in connector.proactive_cards() if "hela serien" in all_text(c)]
    text = all_text(message)
    assert "Lärträff 9" in text
    assert "jag anmälde dig när lärträffen publicerades" in text
    assert action_titled(message, "Meddela förhinder")
    assert action_titled(message, "Avanmäl mig")


async def test_a_full_session_published_later_queues_in_the_order_people_joined_the_series(
    bot: BotClient, engine: Database, clock: FakeClock
) -> None:
    first, second = numbered_user(1), numbered_user(2)
    await _join(bot, first)
    clock.current += timedelta(minutes=1)
    await _join(bot, second)
    await bot.click_in_channel(verbs.ORG_SAVE, {verbs.NUMBER: 0, **FORM, "capacity": "1"})
    await bot.say_in_channel("publicera 9")
    assert (await _places(engine, first))[9] == "registered"
    assert (await _places(engine, second))[9] == "waitlisted"
    assert "Du står på väntelistan, plats 1" in all_text(await bot.say("mina", second))


async def test_erasing_ones_data_ends_the_series_registration(bot: BotClient, engine: Database) -> None:
    await _join(bot, MEGAN)
    mine = all_text(await bot.say("mina uppgifter", MEGAN))
    assert "Du är anmäld till hela serien: Lärprojekt innovation" in mine
    await bot.click(verbs.ERASE, {}, MEGAN)
    async with engine.connect() as conn:
        left = (await conn.execute(select(tables.series_registrations))).all()
    assert left == []


async def test_a_typed_whole_series_with_one_series_needs_no_choice(bot: BotClient, engine: Database) -> None:
    card = await bot.say("hela serien", MEGAN)
    assert "Lärprojekt innovation" in all_text(card)
    assert action_titled(card, "Anmäl mig till hela serien")["verb"] == verbs.SERIES_REGISTER
    assert card["refresh"]["action"]["verb"] == verbs.SERIES_STATUS, "kept true while it is in view"
    await bot.click(verbs.REGISTER, {"session": (await session_ids(engine))[1], **PROFILE}, MEGAN)
    joined = all_text(await bot.say("anmäl mig till hela serien", MEGAN))  # the profile is known by now
    assert "Klart – du är anmäld till hela serien" in joined
    assert await _places(engine, MEGAN) == {1: "registered", 2: "registered"}


# Two series in one bot, each with its own organisers and channel.

BRITA = User("user-id-brita", "00000000-0000-0000-0000-00000000b717", "Brita Nätverk")
NETWORK_CHANNEL = "network-channel-id"


@pytest.fixture
async def two_series(
    settings: Settings, clock: FakeClock, connector: FakeConnector, engine: Database
) -> AsyncIterator[BotClient]:
    await seed_demo(engine, clock.now())
    async with SqlUnitOfWork(engine) as uow:
        network = await uow.series.add(
            Series(0, "natverket", "Nätverket för digitalisering", "Norrbottens Kommuner", "Ett nätverk.", "Alla",
                   Language.SV, organisations=("Kiruna kommun", "Luleå kommun"),
                   organiser_channel_id=NETWORK_CHANNEL),
            clock.now(),
        )  # fmt: skip
        await uow.organisers.add(network.id, BRITA.aad_object_id, ALEX.aad_object_id, clock.now())
        await uow.commit()
    async for client in start_bot(settings, clock, connector):
        yield client


async def test_each_series_is_run_by_its_own_organisers_in_its_own_channel(
    two_series: BotClient, engine: Database
) -> None:
    bot = two_series
    # Brita organises the network: in its channel and in her 1:1 chat, commands act on it alone.
    form = await bot.say_in_channel("ny träff", BRITA, channel=NETWORK_CHANNEL)
    assert "Ny lärträff" in all_text(form)
    saved = await bot.click_in_channel(verbs.ORG_SAVE, {verbs.NUMBER: 0, **FORM}, BRITA, NETWORK_CHANNEL)
    assert "Lärträff 1:" in all_text(saved), "numbered within its own series"
    assert "Nätverket för digitalisering" in all_text(await bot.say("statistik", BRITA))
    # The learning project's channel and commands are not hers.
    refused = all_text(await bot.say_in_channel("statistik", BRITA))
    assert "bara seriens arrangörer" in refused
    refused = all_text(await bot.say_in_channel("publicera 1", BRITA))
    assert "bara seriens arrangörer" in refused
    async with engine.connect() as conn:
        statuses = dict(map(tuple, await conn.execute(select(tables.sessions.c.id, tables.sessions.c.status))))
    assert list(statuses.values()).count("published") == 2, "nothing of the learning project was published"

    # Alex, an organiser of every series by the settings: each channel gives its own series; a 1:1 chat can't
    # say which, and says so.
    assert "Lärprojekt innovation" in all_text(await bot.say_in_channel("statistik"))
    assert "Nätverket för digitalisering" in all_text(await bot.say_in_channel("statistik", channel=NETWORK_CHANNEL))
    which = all_text(await bot.say("statistik"))
    assert "Du är arrangör för flera serier (Lärprojekt innovation, Nätverket för digitalisering)" in which


async def test_participants_of_two_series(two_series: BotClient, engine: Database) -> None:
    bot = two_series
    await bot.click_in_channel(verbs.ORG_SAVE, {verbs.NUMBER: 0, **FORM}, BRITA, NETWORK_CHANNEL)
    await bot.say_in_channel("publicera 1", BRITA, channel=NETWORK_CHANNEL)
    sessions = all_text(await bot.say("träffar", MEGAN))
    assert "Nätverket för digitalisering" in sessions, "each session says which series it belongs to"
    assert "Vill du komma till alla lärträffar i Lärprojekt innovation?" in sessions
    assert "Vill du komma till alla lärträffar i Nätverket för digitalisering?" in sessions
    # "hela serien" typed: which one?
    which = await bot.say("hela serien", MEGAN)
    assert "Vilken serie?" in all_text(which)
    network = action_titled(which, "Nätverket för digitalisering")["data"][verbs.SERIES]
    await bot.click(verbs.SERIES_REGISTER, {verbs.SERIES: network, **PROFILE}, MEGAN)
    places = await _places(engine, MEGAN)
    assert places == {1: "registered"}, "only the network's session"
    # A suggestion goes to the series of her latest registration; without one, the form asks which.
    await bot.say("förslag Mer om AI", MEGAN)
    asked = await bot.say("förslag Mer om öppna data", numbered_user(5))
    (which_series,) = [i for i in inputs(asked) if i["id"] == verbs.SERIES]
    assert which_series["label"] == "Vilken serie gäller förslaget?"
    assert "Mer om öppna data" in [i.get("value") for i in inputs(asked)], "what she wrote is kept"
    await bot.click(verbs.SUGGEST, {verbs.TEXT: "Mer om öppna data", verbs.SERIES: "1"}, numbered_user(5))
    ts = tables.theme_suggestions
    async with engine.connect() as conn:
        kept = dict(map(tuple, await conn.execute(select(ts.c.text, ts.c.series_id))))
    assert kept == {"Mer om AI": network, "Mer om öppna data": 1}


# A series made in Teams.

NEW_CHANNEL = "new-channel-id"
SERIES_FORM = {
    "series_title": "Nätverket för digitalisering",
    "series_organiser": "Norrbottens Kommuner",
    "series_language": "sv",
    "series_description": "Ett nätverk för kommunernas digitaliseringsledare.",
    "series_target_group": "Digitaliseringsledare",
    "series_organisations": "Luleå kommun\nKiruna kommun",
    "series_contacts": "Johan Hörnemalm | Norrbottens Kommuner | projektledare | johan@example.org",
}


async def test_an_organiser_makes_a_series_in_its_channel_and_runs_it_there(bot: BotClient, engine: Database) -> None:
    form = await bot.say_in_channel("ny serie", channel=NEW_CHANNEL)
    assert "Den här kanalen blir seriens arrangörskanal" in all_text(form)
    create = action_titled(form, "Skapa serien")
    missing = await bot.click_in_channel(create["verb"], {**SERIES_FORM, "series_title": " "}, channel=NEW_CHANNEL)
    assert "Seriens namn: fyll i det här" in all_text(missing), "named, and nothing made"
    made = await bot.click_in_channel(create["verb"], SERIES_FORM, channel=NEW_CHANNEL)
    assert "Serien är skapad" in all_text(made)
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(tables.series).where(tables.series.c.slug == "natverket-for-digitalisering"))
        ).one()
        organisers = (await conn.execute(select(tables.organisers.c.aad_object_id).where(
            tables.organisers.c.series_id == row.id))).scalars().all()  # fmt: skip
    assert row.organiser_channel_id == NEW_CHANNEL
    assert organisers == [ALEX.aad_object_id], "its maker is its first organiser"

    # Its channel runs it: a session numbered from 1, published, seen by participants with the series' text.
    await bot.click_in_channel(verbs.ORG_SAVE, {verbs.NUMBER: 0, **FORM}, channel=NEW_CHANNEL)
    await bot.say_in_channel("publicera 1", channel=NEW_CHANNEL)
    sessions = all_text(await bot.say("träffar", MEGAN))
    assert "Nätverket för digitalisering" in sessions
    network_id = int(row.id)
    profile = await bot.click(verbs.SERIES_REGISTER, {verbs.SERIES: network_id}, MEGAN)
    organisations = next(i for i in inputs(profile) if i["id"] == verbs.ORGANISATION)
    assert [c["value"] for c in organisations["choices"]][:2] == ["Luleå kommun", "Kiruna kommun"]

    # Edited in its channel; the learning project's channel still runs the learning project.
    edit = await bot.say_in_channel("ändra serien", channel=NEW_CHANNEL)
    values = {i["id"]: i.get("value", "") for i in inputs(edit)}
    assert values["series_contacts"] == SERIES_FORM["series_contacts"]
    saved = await bot.click_in_channel(
        verbs.ORG_SERIES_SAVE, {**values, "series_title": "Digitaliseringsnätverket"}, channel=NEW_CHANNEL
    )
    assert "Digitaliseringsnätverket" in all_text(saved)
    assert "Lärprojekt innovation" in all_text(await bot.say_in_channel("statistik"))
    assert "Digitaliseringsnätverket" in all_text(await bot.say_in_channel("statistik", channel=NEW_CHANNEL))
    logged = all_text(await bot.say_in_channel("logg", channel=NEW_CHANNEL))
    assert "skapade serien Nätverket för digitalisering" in logged
    assert "ändrade serien Digitaliseringsnätverket" in logged


async def test_a_series_is_made_only_by_organisers_in_a_channel_of_its_own(bot: BotClient, engine: Database) -> None:
    taken = all_text(await bot.say_in_channel("ny serie"))  # the settings' channel runs the learning project
    assert "Den här kanalen sköter redan Lärprojekt innovation" in taken
    assert "i den Teams-kanal som serien ska skötas från" in all_text(await bot.say("ny serie"))
    stranger = all_text(await bot.click_in_channel(verbs.ORG_SERIES_CREATE, SERIES_FORM, MEGAN, NEW_CHANNEL))
    assert "bara seriens arrangörer" in stranger
    async with engine.connect() as conn:
        assert len((await conn.execute(select(tables.series))).all()) == 1, "nothing was made"


async def test_the_whole_series_from_a_phone_where_the_click_arrives_as_a_message(
    bot: BotClient, engine: Database
) -> None:
    """Teams on phones sends Action.Execute's Action.Submit fallback: the card it came from is changed in place."""
    answer = await bot.submit(verbs.SERIES_REGISTER, {verbs.SERIES: 1, **PROFILE}, MEGAN)
    assert "Klart – du är anmäld till hela serien" in all_text(answer)
    assert await _places(engine, MEGAN) == {1: "registered", 2: "registered"}
    left = await bot.submit(verbs.SERIES_LEAVE, {verbs.SERIES: 1}, MEGAN)
    assert "Du har lämnat serien" in all_text(left)


@pytest.mark.parametrize("verb", [verbs.SERIES_REGISTER, verbs.SERIES_LEAVE, verbs.SERIES_STATUS])
@pytest.mark.parametrize("series", [999, "abc", -1])
async def test_a_tampered_series_gets_a_clear_answer_and_changes_nothing(
    bot: BotClient, engine: Database, verb: str, series: object
) -> None:
    answer = all_text(await bot.click(verb, {verbs.SERIES: series, **PROFILE}, MEGAN))
    assert "inget ändrades" in answer.lower()
    async with engine.connect() as conn:
        assert (await conn.execute(select(tables.series_registrations))).all() == []
        assert (await conn.execute(select(tables.registrations))).all() == []
