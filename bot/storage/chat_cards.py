"""The messages about a session in each person's chat, by Teams' activity id, to update in place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from bot.services.ports import ChatCard
from bot.storage import tables as t
from bot.storage.engine import Connection
from bot.storage.repositories import _insert

# The cards of one person and session brought up to date at a time: the newest, should a chat hold more.
KEPT = 20


class SqlChatCardRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(
        self, person_id: int, session_id: int, activity_id: str, kind: str, payload: dict[str, Any], now: datetime
    ) -> None:
        c = t.chat_cards
        insert = _insert(self._conn, c).values(
            person_id=person_id, session_id=session_id, activity_id=activity_id[:200], kind=kind, payload=payload,
            sent_at=now,
        )  # fmt: skip
        await self._conn.execute(insert.on_conflict_do_nothing(index_elements=[c.c.person_id, c.c.activity_id]))

    async def sent_until(self, person_id: int, session_id: int, until: datetime) -> list[ChatCard]:
        c = t.chat_cards
        rows = await self._conn.execute(
            select(c.c.id, c.c.activity_id, c.c.kind, c.c.payload)
            .where(c.c.person_id == person_id, c.c.session_id == session_id, c.c.sent_at <= until)
            .order_by(c.c.sent_at.desc(), c.c.id.desc())
            .limit(KEPT)
        )
        return [ChatCard(row.id, row.activity_id, row.kind, dict(row.payload)) for row in rows]

    async def forget(self, card_id: int) -> None:
        await self._conn.execute(delete(t.chat_cards).where(t.chat_cards.c.id == card_id))
