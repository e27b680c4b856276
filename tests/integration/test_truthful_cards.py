"""Cards already in a person's chat tell the truth after any change, on every client: our earlier messages
about a session are updated in place through the outbox, and a phone's Action.Submit changes the card it
came from. Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import icalendar
import pytest
from aiohttp import ClientSession
from sqlalchemy import select, update

from bot.config import Settings
from bot.domain.model import Language
from bot.i18n import Catalogs
from bot.jobs.delivery import DeliveryWorker
from bot.storage import tables
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.teams.connector import BotConnector
from cards import verbs
from tests.conftest import FakeClock
from tests.integration.harness import MEGAN, BotClient, User, all_text, numbered_user, session_ids

Press = Callable[[str, dict[str, Any] | None, User], Awaitable[dict[str, Any]]]


def _chat(user: User) -> str:
    return f"personal-{user.id}"


async def _drain(worker: DeliveryWorker) -> None:
    while await worker.run_once():
        pass


def _updates(bot: BotClient, user: User) -> list[dict[str, Any]]:
    """The messages in the person's chat the bot updated in place, in order."""
    return [m for m in bot.connector.received if m["_method"] == "PUT" and m["_conversation"] == _chat(user)]


def _card(message: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = message["attachments"][0]["content"]
    return card


async def _register(bot: BotClient, user: User, session: int) -> dict[str, Any]:
    data = {"session": session, verbs.ORGANISATION: "Piteå kommun", verbs.ROLE: "Chef"}
    return await bot.click(verbs.REGISTER, data, user)


async def test_the_confirmation_in_the_chat_follows_can_t_come_and_withdrawing(
    bot: BotClient, engine: Database, worker: DeliveryWorker, clock: FakeClock
) -> None:
    ids = await session_ids(engine)
    await _register(bot, MEGAN, ids[1])
    await _drain(worker)
    ((_, conversation, confirmation),) = bot.connector.proactive
    assert conversation == _chat(MEGAN)
    assert confirmation["summary"].startswith("Du är anmäld till Lärträff 1")

    clock.current += timedelta(minutes=5)
    await bot.click(verbs.ABSENCE, {"session": ids[1], verbs.CAUSE: "travel"}, MEGAN)
    await _drain(worker)
    (updated,) = _updates(bot, MEGAN)
    assert updated["_target"] == "sent-1", "the confirmation itself, by its activity id"
    text = all_text(_card(updated))
    assert "Du har meddelat förhinder. Anledning: Resa" in text
    assert "✅ Du är anmäld" not in text
    assert "Anmäl mig" in text, "the button that fits: come after all"

    clock.current += timedelta(minutes=5)
    await bot.click(verbs.REGISTER, {"session": ids[1]}, MEGAN)  # back again: a new confirmation
    await _drain(worker)
    clock.current += timedelta(minutes=5)
    await bot.click(verbs.WITHDRAW, {"session": ids[1]}, MEGAN)
    await _drain(worker)
    assert len(bot.connector.proactive) == 2
    last_two = [m["_target"] for m in _updates(bot, MEGAN)[-2:]]
    assert sorted(last_two) == ["sent-1", "sent-2"], "both confirmations now say she is not registered"
    assert all("Du är inte anmäld" in all_text(_card(m)) for m in _updates(bot, MEGAN)[-2:])


async def test_a_promotion_updates_the_queue_card(bot: BotClient, engine: Database, worker: DeliveryWorker) -> None:
    ids = await session_ids(engine)
    async with engine.begin() as conn:
        await conn.execute(update(tables.sessions).where(tables.sessions.c.id == ids[1]).values(capacity=1))
    first = numbered_user(1)
    await _register(bot, first, ids[1])
    await _register(bot, MEGAN, ids[1])
    await _drain(worker)
    queue_card = bot.connector.proactive_cards(_chat(MEGAN))[-1]
    assert "Du står på väntelistan" in all_text(queue_card)

    await bot.click(verbs.WITHDRAW, {"session": ids[1]}, first)
    await _drain(worker)
    promoted = bot.connector.proactive_cards(_chat(MEGAN))[-1]
    assert "En plats blev ledig" in all_text(promoted)
    (updated,) = _updates(bot, MEGAN)
    text = all_text(_card(updated))
    assert "Du står på väntelistan" not in text
    assert "✅ Du är anmäld" in text


async def test_a_message_deleted_from_the_chat_is_forgotten(
    bot: BotClient, engine: Database, worker: DeliveryWorker
) -> None:
    ids = await session_ids(engine)
    await _register(bot, MEGAN, ids[1])
    await _drain(worker)
    async with engine.begin() as conn:
        await conn.execute(update(tables.chat_cards).values(activity_id="deleted-by-the-person"))
    bot.connector.gone.add("deleted-by-the-person")
    await bot.click(verbs.WITHDRAW, {"session": ids[1]}, MEGAN)
    await _drain(worker)
    async with engine.connect() as conn:
        assert (await conn.execute(select(tables.chat_cards))).all() == []
        statuses = (await conn.execute(select(tables.outbox.c.kind, tables.outbox.c.status))).all()
    assert ("card_refresh", "sent") in statuses


async def test_a_phone_s_submit_changes_the_card_it_came_from(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    before = len(bot.connector.received)
    status, _ = await bot.post(bot.activities.submit(verbs.DETAILS, {"session": ids[1]}, MEGAN))
    assert status == 200
    (answer,) = bot.connector.received[before:]
    assert answer["_method"] == "PUT"
    assert answer["_target"] == "1795891653192", "the message the card was in"
    assert "Klas Danerlöv" in all_text(_card(answer))


async def test_a_submit_whose_card_cannot_be_updated_is_answered_below_it(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    bot.connector.gone.add("1795891653192")
    before = len(bot.connector.received)
    status, _ = await bot.post(bot.activities.submit(verbs.DETAILS, {"session": ids[1]}, MEGAN))
    assert status == 200
    (answer,) = [m for m in bot.connector.received[before:] if m["_method"] == "POST"]
    assert "Klas Danerlöv" in all_text(_card(answer))


@pytest.fixture(params=["execute", "submit"])
def press(request: pytest.FixtureRequest, bot: BotClient) -> Press:
    """A button pressed on a desktop (Action.Execute, answered with the new card) or on a phone (the
    Action.Submit fallback as a message, answered by changing the card in place)."""
    return bot.click if request.param == "execute" else bot.submit


async def test_every_participant_button_works_on_desktop_and_phone(
    bot: BotClient, engine: Database, press: Press, worker: DeliveryWorker
) -> None:
    ids = await session_ids(engine)
    one = {"session": ids[1]}
    assert "Kommande lärträffar" in all_text(await press(verbs.SESSIONS, {}, MEGAN))
    assert "Klas Danerlöv" in all_text(await press(verbs.DETAILS, one, MEGAN))
    form = await press(verbs.REGISTER, {**one, verbs.VIEW: verbs.VIEW_SESSIONS}, MEGAN)
    assert "Första gången berättar du var du arbetar" in all_text(form)
    profile = {verbs.ORGANISATION: "Piteå kommun", verbs.ROLE: "Chef", verbs.VIEW: verbs.VIEW_SESSIONS}
    listed = await press(verbs.REGISTER, {**one, **profile}, MEGAN)
    assert "✅ Du är anmäld, utan eftersnacket." in all_text(listed), "the after-talk is off unless chosen"
    assert "Bekräftelsen kommer i ett eget meddelande" in all_text(listed), "a line, not a second confirmation"

    staying = await press(verbs.REGISTER, {**one, verbs.AFTER_TALK: True, verbs.VIEW: verbs.VIEW_MINE}, MEGAN)
    assert "Mina anmälningar" in all_text(staying)
    assert "✅ Du är anmäld, även till eftersnacket." in all_text(staying)

    absence_form = await press(verbs.ABSENCE_FORM, {**one, verbs.VIEW: verbs.VIEW_MINE}, MEGAN)
    assert "Skriv inget om din hälsa" in all_text(absence_form)
    absent = await press(verbs.ABSENCE, {**one, verbs.CAUSE: "clash", verbs.VIEW: verbs.VIEW_MINE}, MEGAN)
    assert "Du har meddelat förhinder. Anledning: Krockar med något annat" in all_text(absent)
    back = await press(verbs.REGISTER, one, MEGAN)
    assert "✅ Du är anmäld" in all_text(back)

    question = await press(verbs.WITHDRAW_ASK, one, MEGAN)
    assert "Vill du avanmäla dig från lärträff 1?" in all_text(question)
    assert "Meddela förhinder" in all_text(question), "the difference, explained where it is chosen"
    gone = await press(verbs.WITHDRAW, one, MEGAN)
    assert "Du är inte anmäld" in all_text(gone)
    assert "Anmäl mig igen" in all_text(gone)

    assert "Mina anmälningar" in all_text(await press(verbs.MINE, {}, MEGAN))
    assert "Det här kan jag" in all_text(await press(verbs.HELP, {}, MEGAN))
    assert "Welcome to" in all_text(await press(verbs.LANGUAGE, {"language": "en"}, MEGAN))
    assert "Välkommen till" in all_text(await press(verbs.LANGUAGE, {"language": "sv"}, MEGAN))
    assert "Tack!" in all_text(await press(verbs.SUGGEST, {verbs.TEXT: "Öppna data"}, MEGAN))
    assert "Det här är allt Lärträff sparar om dig" in all_text(await press(verbs.MY_DATA, {}, MEGAN))
    assert "Radera mina uppgifter?" in all_text(await press(verbs.ERASE_ASK, {}, MEGAN))

    async with engine.connect() as conn:
        r = tables.registrations
        row = (await conn.execute(select(r.c.status, r.c.after_talk).where(r.c.session_id == ids[1]))).one()
    assert tuple(row) == ("withdrawn", False)


async def test_the_after_talk_changes_with_the_seat_kept_in_a_full_session(
    bot: BotClient, engine: Database, worker: DeliveryWorker
) -> None:
    ids = await session_ids(engine)
    async with engine.begin() as conn:
        await conn.execute(update(tables.sessions).where(tables.sessions.c.id == ids[1]).values(capacity=1))
    await _register(bot, MEGAN, ids[1])
    assert "⏳" in all_text(await _register(bot, numbered_user(2), ids[1]))
    mine = await bot.click(verbs.MINE, {}, MEGAN)
    stay = next(a for a in mine["body"][1]["items"][-1]["actions"] if a["title"] == "Stanna på eftersnacket")
    changed = await bot.click(stay["verb"], stay["data"], MEGAN)
    assert "✅ Du är anmäld, även till eftersnacket." in all_text(changed)
    async with engine.connect() as conn:
        r = tables.registrations
        rows = (await conn.execute(select(r.c.status, r.c.after_talk).order_by(r.c.id))).all()
    assert [tuple(x) for x in rows] == [("registered", True), ("waitlisted", False)]


async def test_one_confirmation_per_registration(bot: BotClient, engine: Database, worker: DeliveryWorker) -> None:
    ids = await session_ids(engine)
    data = {"session": ids[1], verbs.ORGANISATION: "Piteå kommun", verbs.ROLE: "Chef", verbs.VIEW: "sessions"}
    answer = await bot.click(verbs.REGISTER, data, MEGAN)
    assert "Din anmälan" not in all_text(answer)
    await _drain(worker)
    confirmations = [c for c in bot.connector.proactive_cards(_chat(MEGAN)) if "Din anmälan" in all_text(c)]
    assert len(confirmations) == 1


async def test_a_card_coming_into_view_is_drawn_again_with_the_state_of_now(bot: BotClient, engine: Database) -> None:
    """Teams' automatic refresh: the card's own refresh action arrives as an invoke, answered with the card."""
    ids = await session_ids(engine)
    listed = await bot.click(verbs.SESSIONS, {}, MEGAN)
    assert "Du är inte anmäld" in all_text(listed)
    await _register(bot, MEGAN, ids[1])
    refresh = listed["refresh"]["action"]
    activity = bot.activities.invoke(refresh["verb"], refresh["data"], MEGAN)
    activity["value"]["trigger"] = "automatic"
    status, body = await bot.post(activity)
    assert status == 200
    assert "✅ Du är anmäld" in all_text(body["value"])


async def test_add_to_calendar_without_graph(
    bot: BotClient, engine: Database, worker: DeliveryWorker, clock: FakeClock, settings: Settings, http: ClientSession
) -> None:
    """An .ics a calendar imports as one event at the right local time; fetched again after a change it
    is the same event, a later version of it."""
    base = str(bot.server.make_url("/")).rstrip("/")
    sender = BotConnector(settings, http)
    files = DeliveryWorker(
        SqlUnitOfWorkFactory(engine), sender, clock, Catalogs.load(), Language.SV, calendar_base=base
    )
    ids = await session_ids(engine)
    await _register(bot, MEGAN, ids[1])
    await _drain(files)
    confirmation = bot.connector.proactive_cards(_chat(MEGAN))[-1]
    url = next(a["url"] for a in confirmation["actions"] if a.get("title") == "Lägg till i kalendern")
    assert url.startswith(f"{base}/calendar/")
    assert len(url.rsplit("/", 1)[1]) > 40

    async def fetch() -> tuple[int, bytes]:
        async with bot.http.get(url) as response:
            if response.status == 200:
                assert response.content_type == "text/calendar"
            return response.status, await response.read()

    status, body = await fetch()
    assert status == 200
    calendar = icalendar.Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/Stockholm"
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (9, 0, "Europe/Stockholm")
    async with engine.connect() as conn:
        session = (await conn.execute(select(tables.sessions).where(tables.sessions.c.id == ids[1]))).one()
    assert start == session.starts_at
    assert "Lärträff 1" in str(event["SUMMARY"])

    clock.current += timedelta(minutes=5)
    await bot.say_in_channel("ställ in 1 Föreläsaren är sjuk")
    status, again = await fetch()
    (cancelled,) = icalendar.Calendar.from_ical(again).walk("VEVENT")
    assert cancelled["UID"] == event["UID"], "the same event: importing it again updates it"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(str(cancelled["SEQUENCE"])) > int(str(event["SEQUENCE"]))

    async with bot.http.get(f"{base}/calendar/guessed-token.ics") as response:
        assert response.status == 410
    clock.current = session.ends_at + timedelta(days=8)
    assert (await fetch())[0] == 410, "the link expires a week after the session"
