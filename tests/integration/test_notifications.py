"""Proactive messages through the outbox: every kind arrives, Teams' limits hold, retries, 403, crashes."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from bot.config import Settings
from bot.conversation import ConversationRef
from bot.domain.events import Digest
from bot.domain.model import Language
from bot.i18n import Catalogs
from bot.jobs.delivery import DeliverySettings, DeliveryWorker
from bot.jobs.scheduler import Scheduler, ScheduleSettings
from bot.services.ports import INTERRUPTED
from bot.storage import tables
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from bot.teams.connector import BotConnector, SendResult
from cards import verbs
from tests.conftest import FakeClock
from tests.integration.harness import MEGAN, BotClient, User, all_text, form_values, numbered_user


def _chat(user: User) -> str:
    return f"personal-{user.id}"


@pytest.fixture
def scheduler(engine: Database, clock: FakeClock) -> Scheduler:
    return Scheduler(SqlUnitOfWorkFactory(engine), clock, ScheduleSettings(digest_every=timedelta(hours=1)))


async def _session(engine: Database, number: int) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(tables.sessions).where(tables.sessions.c.number == number))).one()


async def _register(bot: BotClient, user: User, number: int, engine: Database) -> None:
    session = await _session(engine, number)
    await bot.click(
        verbs.REGISTER, {"session": session.id, verbs.ORGANISATION: "Piteå kommun", verbs.ROLE: "Chef"}, user
    )


async def _drain(worker: DeliveryWorker) -> None:
    while await worker.run_once():
        pass


async def _outbox(engine: Database) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(tables.outbox).order_by(tables.outbox.c.id))).all())


async def test_every_kind_of_message_arrives_in_the_persons_language(
    bot: BotClient, engine: Database, clock: FakeClock, worker: DeliveryWorker, scheduler: Scheduler
) -> None:
    guest = User("guest", "aad-guest-1", "Guest", locale="en-US")
    first = await _session(engine, 1)
    await bot.click_in_channel(
        verbs.ORG_SAVE, {verbs.NUMBER: 1, "title": first.title, "date": "", "start": "", "end": ""}
    )  # fmt: skip  (rejected: nothing changes)
    await bot.say_in_channel("statistik")  # the organisers' channel is remembered for the digest
    await _register(bot, MEGAN, 1, engine)
    await _register(bot, guest, 1, engine)
    await _drain(worker)
    assert "Din anmälan" in all_text(bot.connector.proactive_cards(_chat(MEGAN))[-1])
    assert "Your registration" in all_text(bot.connector.proactive_cards(_chat(guest))[-1])

    url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0"
    await bot.say_in_channel(f"länk 1 {url}")
    await bot.say_in_channel("meddela 1 Ta med en fråga!")
    await _drain(worker)
    megan = [all_text(c) for c in bot.connector.proactive_cards(_chat(MEGAN))]
    assert any("Här är möteslänken" in c and url in c for c in megan)
    assert any("Meddelande från Alex Wilber" in c and "Ta med en fråga!" in c for c in megan)

    # Reminders: a week before, then the day before; each once, however often the scheduler runs.
    clock.current = first.starts_at - timedelta(days=7) + timedelta(minutes=1)
    await scheduler.run_once()
    await scheduler.run_once()
    clock.current = first.starts_at - timedelta(hours=20)
    await scheduler.run_once()
    await _drain(worker)
    reminders = [c for c in map(all_text, bot.connector.proactive_cards(_chat(MEGAN))) if "Påminnelse" in c]
    assert len(reminders) == 2
    assert "Påminnelse: om 7 dagar" in reminders[0]
    assert "Påminnelse: i morgon" in reminders[1]
    assert url in reminders[1]

    # An absence reaches the organisers' channel in the next hourly digest, batched.
    await bot.click(verbs.ABSENCE, {"session": first.id, verbs.REASON: "Krock"}, guest)
    clock.current += timedelta(hours=1)
    await scheduler.run_once()
    await _drain(worker)
    digest = all_text(bot.connector.proactive_cards("team-id")[-1])
    assert "Nya förhinder" in digest
    assert "Guest · Piteå kommun · ”Krock”" in digest

    # After the session: "how was it?", answered from the message itself.
    clock.current = first.ends_at + timedelta(minutes=5)
    await scheduler.run_once()
    await _drain(worker)
    feedback = bot.connector.proactive_cards(_chat(MEGAN))[-1]
    assert "Hur var lärträffen?" in all_text(feedback)
    assert not [c for c in bot.connector.proactive_cards(_chat(guest)) if "How was the session?" in all_text(c)], (
        "absent"
    )
    thanks = await bot.click(verbs.FEEDBACK, {"session": first.id, verbs.RATING: "5", verbs.COMMENT: "Bra!"}, MEGAN)
    assert "Tack!" in all_text(thanks)
    async with engine.connect() as conn:
        assert (await conn.execute(select(tables.feedback.c.rating, tables.feedback.c.comment))).one() == (5, "Bra!")
    seen_by_organisers = all_text(await bot.say_in_channel("omdömen 1"))
    assert "5,0 av 5, 1 svar" in seen_by_organisers
    assert "5 · Bra!" in seen_by_organisers
    assert "Megan" not in seen_by_organisers, "answers are anonymous"

    # Every message says in a line what it is, for the chat list, the notification and screen readers.
    summaries = [activity.get("summary", "") for _, _, activity in bot.connector.proactive]
    assert all(summaries), summaries
    assert "Du är anmäld till Lärträff 1, " in summaries[0]
    assert any(s.startswith("Lärträff: 1 nytt förhinder") for s in summaries), summaries
    assert any(s.startswith("Hur var Lärträff 1?") for s in summaries), summaries


async def test_promotion_change_cancellation_and_announcement(
    bot: BotClient, engine: Database, worker: DeliveryWorker
) -> None:
    edit = await bot.say_in_channel("ändra 2")
    values = form_values(edit)
    await bot.click_in_channel(verbs.ORG_SAVE, {**values, verbs.NUMBER: 2, "capacity": "1"})
    await _register(bot, MEGAN, 2, engine)
    await _register(bot, numbered_user(1), 2, engine)  # waitlisted
    second = await _session(engine, 2)
    await bot.click(verbs.WITHDRAW, {"session": second.id}, MEGAN)
    await _drain(worker)
    promoted = all_text(bot.connector.proactive_cards(_chat(numbered_user(1)))[-1])
    assert "En plats blev ledig: du är anmäld" in promoted

    await bot.click_in_channel(verbs.ORG_SAVE, {**values, verbs.NUMBER: 2, "capacity": "1", "start": "10:00"})
    await _drain(worker)
    assert "Lärträffen har ändrats" in all_text(bot.connector.proactive_cards(_chat(numbered_user(1)))[-1])

    await bot.say_in_channel("ställ in 2 Föreläsaren är sjuk")
    await _drain(worker)
    cancelled = all_text(bot.connector.proactive_cards(_chat(numbered_user(1)))[-1])
    assert "Lärträffen är inställd" in cancelled
    assert "Anledning: Föreläsaren är sjuk" in cancelled

    await bot.say_in_channel("publicera 3")
    await _drain(worker)
    for user in (MEGAN, numbered_user(1)):
        card = bot.connector.proactive_cards(_chat(user))[-1]
        assert "Ny lärträff i Lärprojekt innovation" in all_text(card)
        assert any(a.get("verb") == verbs.REGISTER for a in card["actions"]), "register from the message itself"


async def test_429_and_503_are_retried_after_the_wait(
    bot: BotClient, engine: Database, clock: FakeClock, worker: DeliveryWorker
) -> None:
    bot.connector.scripted[_chat(MEGAN)] = [429, 503]
    bot.connector.retry_after = "3"
    await _register(bot, MEGAN, 1, engine)
    await _drain(worker)
    assert bot.connector.proactive_cards(_chat(MEGAN)) == []
    (row,) = await _outbox(engine)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 429")
    assert row.next_attempt_at >= clock.current + timedelta(seconds=3), "Retry-After is honoured"
    clock.current += timedelta(seconds=4)
    await _drain(worker)
    (row,) = await _outbox(engine)
    assert (row.status, row.last_error) == ("pending", "HTTP 503")
    clock.current += timedelta(minutes=1)
    await _drain(worker)
    (row,) = await _outbox(engine)
    assert row.status == "sent"
    assert len(bot.connector.proactive_cards(_chat(MEGAN))) == 1


async def test_403_marks_the_person_unreachable_until_they_write_again(
    bot: BotClient, engine: Database, worker: DeliveryWorker
) -> None:
    bot.connector.scripted[_chat(MEGAN)] = [403]
    await _register(bot, MEGAN, 1, engine)
    await _drain(worker)
    await bot.say_in_channel("meddela 1 Hej")
    await _drain(worker)
    rows = await _outbox(engine)
    assert [(r.kind, r.status, r.last_error) for r in rows] == [
        ("confirmation", "failed", "HTTP 403: unreachable"),
        ("organiser_message", "failed", "skipped: unreachable: the app was removed or blocked"),
    ]
    assert bot.connector.proactive_cards(_chat(MEGAN)) == []
    await bot.say("hej", MEGAN)  # writing again makes them reachable
    await bot.say_in_channel("meddela 1 Välkommen tillbaka")
    await _drain(worker)
    assert "Välkommen tillbaka" in all_text(bot.connector.proactive_cards(_chat(MEGAN))[-1])


async def test_uninstall_stops_messages(bot: BotClient, engine: Database, worker: DeliveryWorker) -> None:
    await _register(bot, MEGAN, 1, engine)
    await _drain(worker)
    removal = bot.activities.install(MEGAN)
    removal["action"] = "remove"
    assert (await bot.post(removal))[0] == 200
    await bot.say_in_channel("meddela 1 Hej")
    await _drain(worker)
    assert len(bot.connector.proactive_cards(_chat(MEGAN))) == 1, "only the confirmation, sent before removal"


async def test_opt_out_of_announcements_keeps_reminders(
    bot: BotClient, engine: Database, clock: FakeClock, worker: DeliveryWorker, scheduler: Scheduler
) -> None:
    await _register(bot, MEGAN, 1, engine)
    assert "inte längre höra om nya lärträffar" in all_text(await bot.say("avsluta", MEGAN))
    await bot.say_in_channel("publicera 3")
    first = await _session(engine, 1)
    clock.current = first.starts_at - timedelta(hours=20)
    await scheduler.run_once()
    await _drain(worker)
    texts = [all_text(c) for c in bot.connector.proactive_cards(_chat(MEGAN))]
    assert not any("Ny lärträff" in t for t in texts)
    assert any("Påminnelse: i morgon" in t for t in texts)
    assert "höra om nya lärträffar igen" in all_text(await bot.say("prenumerera", MEGAN))
    await bot.say_in_channel("publicera 4")
    await _drain(worker)
    assert "Ny lärträff" in all_text(bot.connector.proactive_cards(_chat(MEGAN))[-1])


async def test_teams_limits_per_conversation_are_respected(
    bot: BotClient, engine: Database, worker: DeliveryWorker
) -> None:
    await _register(bot, MEGAN, 1, engine)
    for n in range(16):
        await bot.say_in_channel(f"meddela 1 Nummer {n}")
    await _drain(worker)
    times = sorted(t for t, c, _ in bot.connector.proactive if c == _chat(MEGAN))
    assert len(times) == 17
    for window, limit in ((1.0, 7), (2.0, 8)):
        most = max(sum(1 for t in times if start <= t < start + window) for start in times)
        assert most <= limit, f"{most} messages in {window} s"


class _Passing:
    """The real connector behind a test's sender: what the test does not change goes through as it is."""

    def __init__(self, inner: BotConnector) -> None:
        self._inner = inner

    async def update(
        self,
        to: ConversationRef,
        activity_id: str,
        card: dict[str, Any],
        ready: Callable[[], Awaitable[bool]] | None = None,
    ) -> SendResult:
        return await self._inner.update(to, activity_id, card, ready)


class _StallingSender(_Passing):
    """Delivers `before` messages, then hangs, as a worker does when its process is killed mid-batch;
    `stalled` is set once `hanging` requests hang."""

    def __init__(self, inner: BotConnector, before: int, hanging: int) -> None:
        super().__init__(inner)
        self._left = before
        self._hanging = hanging
        self.stalled = asyncio.Event()

    async def send(
        self,
        to: ConversationRef,
        card: dict[str, Any],
        ready: Callable[[], Awaitable[bool]] | None = None,
        *,
        summary: str = "",
    ) -> SendResult:
        if self._left <= 0:
            assert ready is not None
            assert await ready()  # the request "goes", and never comes back
            self._hanging -= 1
            if self._hanging == 0:
                self.stalled.set()
            await asyncio.Event().wait()
        self._left -= 1
        return await self._inner.send(to, card, ready, summary=summary)


@pytest.mark.parametrize(("batch", "concurrency", "delivered", "in_flight"), [(8, 8, 5, 3), (8, 2, 3, 2)])
async def test_a_worker_that_dies_mid_batch_loses_only_the_requests_in_flight(
    bot: BotClient,
    engine: Database,
    clock: FakeClock,
    http: ClientSession,
    settings: Settings,
    batch: int,
    concurrency: int,
    delivered: int,
    in_flight: int,
) -> None:
    """Claimed rows never tried are sent by the next worker; only rows whose request was in flight are lost
    (never resent, as they may have arrived), and the organisers' digest counts them."""
    people = [numbered_user(n) for n in range(12)]
    for user in people:
        await _register(bot, user, 1, engine)
    uow = SqlUnitOfWorkFactory(engine)
    stalling = _StallingSender(BotConnector(settings, http), delivered, in_flight)
    dying = DeliveryWorker(uow, stalling, clock, Catalogs.load(), Language.SV,
                           DeliverySettings(batch=batch, concurrency=concurrency))  # fmt: skip
    task = asyncio.create_task(dying.run_once())
    await asyncio.wait_for(stalling.stalled.wait(), 30)
    async with asyncio.timeout(30):  # the delivered ones settled: a condition awaited, not a guessed sleep
        while Counter(r.status for r in await _outbox(engine))["sent"] < delivered:  # noqa: ASYNC110 - the state is in the database
            await asyncio.sleep(0.01)
    task.cancel()  # as SIGKILL would: nothing after this line of the dying worker runs to settle its rows
    with pytest.raises(asyncio.CancelledError):
        await task
    clock.current += timedelta(minutes=5)  # past the dead worker's leases
    fresh = DeliveryWorker(uow, BotConnector(settings, http), clock, Catalogs.load(), Language.SV)
    await _drain(fresh)
    received = Counter(c for _, c, _ in bot.connector.proactive)
    assert max(received.values()) == 1, "nobody got a message twice"
    assert len(received) == 12 - in_flight
    rows = await _outbox(engine)
    statuses = Counter(r.status for r in rows)
    assert statuses["sent"] == 12 - in_flight
    assert statuses["failed"] == in_flight
    assert all(r.last_error == INTERRUPTED for r in rows if r.status == "failed")
    async with SqlUnitOfWork(engine) as counting:
        (series,) = await counting.series.list_all()
        lost = await counting.outbox.failed_since(
            series.id, clock.current - timedelta(hours=1), clock.current + timedelta(seconds=1)
        )
    assert lost == in_flight


async def test_two_workers_never_send_the_same_row(
    bot: BotClient, engine: Database, clock: FakeClock, http: ClientSession, settings: Settings
) -> None:
    for n in range(20):
        await _register(bot, numbered_user(n), 1, engine)
    uow = SqlUnitOfWorkFactory(engine)
    workers = [
        DeliveryWorker(
            uow,
            BotConnector(settings, http),
            clock,
            Catalogs.load(),
            Language.SV,
            DeliverySettings(batch=3),
        )
        for _ in range(2)
    ]

    await asyncio.gather(*(_drain(w) for w in workers))
    received = Counter(c for _, c, _ in bot.connector.proactive)
    assert len(received) == 20
    assert set(received.values()) == {1}


class _SlowFirst(_Passing):
    """Answers the first message slowly, as Teams sometimes does."""

    def __init__(self, inner: BotConnector) -> None:
        super().__init__(inner)
        self._first = True

    async def send(
        self,
        to: ConversationRef,
        card: dict[str, Any],
        ready: Callable[[], Awaitable[bool]] | None = None,
        *,
        summary: str = "",
    ) -> SendResult:
        if self._first:
            self._first = False
            await asyncio.sleep(0.2)
        return await self._inner.send(to, card, ready, summary=summary)


async def test_one_channels_messages_arrive_in_the_order_they_were_queued(
    bot: BotClient, engine: Database, clock: FakeClock, http: ClientSession, settings: Settings
) -> None:
    await bot.say_in_channel("statistik")  # the organisers' channel is noted
    factory = SqlUnitOfWorkFactory(engine)
    async with factory() as uow:
        (series,) = await uow.series.list_all()
        digests = [Digest(series.id, n, [(1, name, "", "")]) for n, name in enumerate(["Först i kön", "Sist i kön"])]
        await uow.record(clock.now(), *digests)
        await uow.commit()
    worker = DeliveryWorker(factory, _SlowFirst(BotConnector(settings, http)), clock, Catalogs.load(), Language.SV)
    await _drain(worker)
    told = [all_text(c) for c in bot.connector.proactive_cards("team-id")]
    assert ["Först i kön" in told[0], "Sist i kön" in told[1]] == [True, True]
