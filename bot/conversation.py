"""Who is talking to the bot and where: the few types every layer shares (Teams, services, storage)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.model import PersonKey


class ConversationKind(StrEnum):
    PERSONAL = "personal"
    CHANNEL = "channel"
    GROUP = "groupChat"


@dataclass(frozen=True)
class ConversationRef:
    """Enough to write to a person in their 1:1 chat later (a Bot Framework conversation reference)."""

    service_url: str
    conversation_id: str
    bot_id: str
    tenant_id: str = ""  # whose limit of requests a message counts against ("" where unknown)


@dataclass(frozen=True)
class Actor:
    """Who is talking to the bot, as Teams tells it."""

    key: PersonKey
    name: str
    teams_locale: str | None
    reach: ConversationRef | None = None  # only from a 1:1 chat
