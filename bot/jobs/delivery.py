"""Delivers the outbox: claims due rows, renders them from current state, sends within Teams' limits.

Retries 429/412/502/503/504 and network failures with Retry-After or exponential backoff with jitter;
a 403 or 404 means the person removed or blocked the app: they are marked unreachable. A claimed row
is marked 'sending' (committed) only when its request is about to go. A worker that dies leaves its
claimed rows to be sent by another once their lease has run out, and its rows in flight (at most
`concurrency`) to be marked failed, never resent: they may have arrived, and Teams has no idempotency
key for a proactive message, so a resend could show a reminder twice. The loss is counted in the
organisers' digest.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot import telemetry
from bot.conversation import ConversationRef
from bot.domain.events import CardRefresh, MessageKind
from bot.domain.model import Language, PersonKey
from bot.i18n import Catalogs
from bot.jobs import rendering as notifications
from bot.jobs.loop import run_batches
from bot.services.ports import Clock, OutboxItem, UnitOfWork, UnitOfWorkFactory
from bot.teams.limits import TEAMS_RETRIES, RetryPolicy

log = logging.getLogger(__name__)


class SendOutcome(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def retry_after(self) -> float | None: ...

    @property
    def activity_id(self) -> str | None: ...


class Sender(Protocol):
    async def send(
        self,
        to: ConversationRef,
        card: dict[str, Any],
        ready: Callable[[], Awaitable[bool]] | None = None,
        *,
        summary: str = "",
    ) -> SendOutcome:
        """Sends within Teams' limits, once; `ready` is asked just before the request goes, and when it
        says False the request does not go. `summary` is the message's line in the chat list."""
        ...

    async def update(
        self,
        to: ConversationRef,
        activity_id: str,
        card: dict[str, Any],
        ready: Callable[[], Awaitable[bool]] | None = None,
    ) -> SendOutcome:
        """Replaces the card of an earlier message, once; `ready` as for `send`."""
        ...


@dataclass(frozen=True)
class DeliverySettings:
    batch: int = 50
    concurrency: int = 16
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 8
    idle_poll: float = 1.0


class DeliveryWorker:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        sender: Sender,
        clock: Clock,
        catalogs: Catalogs,
        default_language: Language,
        settings: DeliverySettings = DeliverySettings(),
        jitter: Callable[[], float] = random.random,
        policy: RetryPolicy = TEAMS_RETRIES,
        calendar_base: str = "",
    ) -> None:
        self._calendar_base = calendar_base  # the public address for "add to calendar" links; "" for none
        self._uow_factory = uow_factory
        self._sender = sender
        self._clock = clock
        self._policy = policy
        self._catalogs = catalogs
        self._default_language = default_language
        self._settings = settings
        self._jitter = jitter
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that queued messages, so they leave at once instead of at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """One batch; returns how many rows it settled."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            abandoned = await uow.outbox.abandon_expired(now)
            items = await uow.outbox.claim(now, self._settings.batch, now + self._settings.lease)
            await uow.commit()
        if abandoned.lost:
            log.warning("%d outbox rows were interrupted while sending and are not resent", abandoned.lost)
        if abandoned.released:
            log.warning("%d outbox rows claimed by a stopped worker are sent again", abandoned.released)
        if not items:
            return 0
        slots = asyncio.Semaphore(self._settings.concurrency)
        # One conversation's messages go one after another, in the order they were queued: a person's, or
        # the organisers' channel of the series a channel message names. Conversations in parallel.
        queues: dict[object, list[OutboxItem]] = {}
        for item in items:
            to = item.person_id if item.person_id is not None else ("channel", item.payload.get("series"))
            queues.setdefault(to, []).append(item)

        async def in_order(queue: list[OutboxItem]) -> None:
            async with slots:
                for item in queue:
                    await self._deliver_safely(item)

        await asyncio.gather(*(in_order(queue) for queue in queues.values()))
        return len(items)

    async def _deliver_safely(self, item: OutboxItem) -> None:
        try:
            await self._deliver(item)
        except Exception:
            # A bug in rendering must not strand the row as 'sending': it is tried again later.
            log.exception("outbox row %d could not be delivered", item.id)
            async with self._uow_factory() as uow:
                await uow.outbox.retry(item.id, self._clock.now() + timedelta(minutes=5), "internal error")
                await uow.commit()

    async def run(self, stop: asyncio.Event) -> None:
        await run_batches(self.run_once, self._wake, stop, self._settings.idle_poll, "outbox delivery")

    async def _keep(self, item: OutboxItem, activity_id: str | None, uow: UnitOfWork, now: datetime) -> None:
        """A message about a session, sent: kept to be updated in place; when it tells of a change, the
        person's earlier cards about the session are brought up to date (this one tells the news; they may not)."""
        if activity_id is None or item.person_id is None or item.session_id is None:
            return
        kind = MessageKind(item.kind)
        if kind not in notifications.TRACKED:
            return
        earlier = kind in notifications.REPORTS_CHANGE and await uow.chat_cards.sent_until(
            item.person_id, item.session_id, now
        )
        await uow.chat_cards.add(item.person_id, item.session_id, activity_id, item.kind, item.payload, now)
        if earlier:
            await uow.record(now, CardRefresh(item.person_id, item.session_id, at=now, sent=activity_id))

    async def _update(self, item: OutboxItem, updates: notifications.Updates) -> None:
        """Earlier messages brought up to date, one request each; a message deleted from the chat (404) is
        forgotten; an answer that ends or delays a message ends or delays the whole row (an update is
        idempotent, so the row may go again)."""
        ready: Callable[[], Awaitable[bool]] | None = self._ready(item)
        gone: list[int] = []
        stopped: SendOutcome | None = None
        for card_id, activity_id, card in updates.cards:
            result = await self._sender.update(updates.to, activity_id, card, ready)
            ready = None
            if result.status == -1:
                return
            if 200 <= result.status < 300:
                continue
            if result.status == 404:
                gone.append(card_id)
            elif result.status in self._policy.unreachable or result.status in self._policy.retryable:
                stopped = result
                break
            else:
                log.info("a card could not be updated: HTTP %s", result.status)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            for card_id in gone:
                await uow.chat_cards.forget(card_id)
            if stopped is None:
                await uow.outbox.sent(item.id, now)
            else:
                await self._settle(item, stopped, updates.person, uow, now)
            await uow.commit()

    async def _settle(
        self, item: OutboxItem, result: SendOutcome, person: PersonKey | None, uow: UnitOfWork, now: datetime
    ) -> None:
        """A row after Teams' answer: sent; failed, the person marked unreachable on a 403/404; or back in the
        queue while the answer is worth another try and attempts are left."""
        policy = self._policy
        if 200 <= result.status < 300:
            await uow.outbox.sent(item.id, now)
            if item.due_at is not None:
                telemetry.message_sent(item.kind, (now - item.due_at).total_seconds())
        elif result.status in policy.unreachable:
            await uow.outbox.failed(item.id, f"HTTP {result.status}: unreachable", now)
            telemetry.message_failed(item.kind)
            if person is not None:
                await uow.people.set_unreachable(person, now)
        elif result.status in policy.retryable and item.attempts + 1 < self._settings.max_attempts:
            delay = policy.delay(item.attempts, result.retry_after, self._jitter)
            await uow.outbox.retry(item.id, now + timedelta(seconds=delay), f"HTTP {result.status}")
        else:
            await uow.outbox.failed(item.id, f"HTTP {result.status}", now)
            telemetry.message_failed(item.kind)

    def _ready(self, item: OutboxItem) -> Callable[[], Awaitable[bool]]:
        async def ready() -> bool:
            """Marks the row as in flight; False when its claim ran out meanwhile and another worker took it."""
            async with self._uow_factory() as uow:
                ours = await uow.outbox.sending(item.id, self._clock.now() + self._settings.lease)
                await uow.commit()
            return ours

        return ready

    async def _deliver(self, item: OutboxItem) -> None:
        async with self._uow_factory() as uow:
            rendered = await notifications.render(
                item, uow, self._clock.now(), self._catalogs, self._default_language, self._calendar_base
            )
        if isinstance(rendered, notifications.Skip):
            async with self._uow_factory() as uow:
                await uow.outbox.failed(item.id, f"skipped: {rendered.reason}", self._clock.now())
                await uow.commit()
            return
        if isinstance(rendered, notifications.Updates):
            await self._update(item, rendered)
            return

        result = await self._sender.send(rendered.to, rendered.card, self._ready(item), summary=rendered.summary)
        if result.status == -1:  # not ours any more: nothing was sent
            return
        now = self._clock.now()
        async with self._uow_factory() as uow:
            await self._settle(item, result, rendered.person, uow, now)
            if 200 <= result.status < 300:
                await self._keep(item, result.activity_id, uow, now)
            await uow.commit()
