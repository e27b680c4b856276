"""What the bot receives and answers, in our own types: the Teams layer translates to and from these."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.conversation import Actor, ConversationKind


class TurnKind(StrEnum):
    MESSAGE = "message"  # typed text
    CARD_ACTION = "card_action"  # Action.Execute invoke, or an Action.Submit message
    INSTALL = "install"  # the app was added to a chat or team
    UNINSTALL = "uninstall"  # removed: no more proactive messages until the person writes again
    IGNORED = "ignored"


@dataclass(frozen=True)
class MemberInfo:
    """What Teams knows of the sender beyond the activity: asked for once, when they first register."""

    email: str


MemberLookup = Callable[[], Awaitable[MemberInfo | None]]
# A Teams user id (as in a mention) to that person's Entra object id, or None when Teams does not say.
ObjectIdLookup = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True)
class Mention:
    """Someone @mentioned in a message, other than the bot."""

    teams_id: str
    name: str


async def _nobody() -> MemberInfo | None:
    return None


async def _no_object_id(_teams_id: str) -> str | None:
    return None


@dataclass(frozen=True)
class Turn:
    activity_id: str
    kind: TurnKind
    actor: Actor
    conversation: ConversationKind
    text: str = ""  # mentions removed, whitespace folded
    verb: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)  # card data; the router parses it per verb
    is_invoke: bool = False
    channel_id: str | None = None
    service_url: str = ""
    lookup_member: MemberLookup = _nobody
    mentions: tuple[Mention, ...] = ()
    lookup_object_id: ObjectIdLookup = _no_object_id


@dataclass(frozen=True)
class Reply:
    """One card: for an invoke it replaces the clicked card in place, otherwise it is sent as a message."""

    card: dict[str, Any] | None
