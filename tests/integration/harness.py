"""Real HTTP on 127.0.0.1: the bot's aiohttp app, a fake Bot Connector, and Teams activities to post."""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.storage import tables
from bot.storage.engine import Database
from tests.localserver import LocalServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "activities"
TENANT = "00000000-0000-0000-0000-0000000000001"


async def session_ids(engine: Database) -> dict[int, int]:
    """Session id by its number in the series."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(tables.sessions.c.number, tables.sessions.c.id))
        return {number: session_id for number, session_id in rows}


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class User:
    id: str
    aad_object_id: str
    name: str
    locale: str = "sv-SE"
    tenant_id: str = ""  # the fixtures' (the association's) unless given


ALEX = User("user-id-0", "00000000-0000-0000-0000-0000000000020", "Alex Wilber")
MEGAN = User("user-id-1", "00000000-0000-0000-0000-0000000000021", "Megan Bowen")


def numbered_user(n: int, locale: str = "sv-SE") -> User:
    return User(f"user-{n}", f"aad-{n:08d}", f"Deltagare {n}", locale)


class Activities:
    """Activities exactly as Teams (Agents Playground) posts them, for a given user."""

    def __init__(self, service_url: str) -> None:
        self.service_url = service_url

    def _base(self, name: str, user: User, conversation_id: str | None = None) -> dict[str, Any]:
        activity = copy.deepcopy(fixture(name))
        activity["id"] = str(uuid.uuid4())
        activity["serviceUrl"] = self.service_url
        activity["from"] = {"id": user.id, "name": user.name, "aadObjectId": user.aad_object_id}
        activity["locale"] = user.locale
        if user.tenant_id:
            activity["conversation"]["tenantId"] = user.tenant_id
            activity.setdefault("channelData", {})["tenant"] = {"id": user.tenant_id}
        if conversation_id is None and activity["conversation"].get("conversationType") == "personal":
            conversation_id = f"personal-{user.id}"
        if conversation_id is not None:
            activity["conversation"]["id"] = conversation_id
        return activity

    def message(self, text: str, user: User = ALEX) -> dict[str, Any]:
        activity = self._base("personal-message", user)
        activity["text"] = text
        return activity

    def channel_message(
        self, text: str, user: User = ALEX, channel: str = "team-id", mentions: Sequence[User] = ()
    ) -> dict[str, Any]:
        """As Teams sends it: the bot mentioned first, then the text, then anyone else mentioned."""
        activity = self._base("channel-message", user, conversation_id=f"{channel};messageid=1")
        activity["text"] = " ".join([f"<at>Test Bot</at> {text}", *(f"<at>{m.name}</at>" for m in mentions)])
        for mentioned in mentions:
            activity["entities"].append(
                {
                    "type": "mention",
                    "mentioned": {"id": mentioned.id, "name": mentioned.name},
                    "text": f"<at>{mentioned.name}</at>",
                }
            )
        activity["channelData"]["channel"]["id"] = channel
        activity["channelData"]["teamsChannelId"] = channel
        return activity

    def channel_invoke(
        self, verb: str, data: dict[str, Any] | None = None, user: User = ALEX, channel: str = "team-id"
    ) -> dict[str, Any]:
        activity = self._base("channel-invoke-adaptiveCard-action", user, conversation_id=f"{channel};messageid=1")
        activity["value"] = {"action": {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **(data or {})}}}
        activity["channelData"]["channel"]["id"] = channel
        return activity

    def invoke(self, verb: str, data: dict[str, Any] | None = None, user: User = ALEX) -> dict[str, Any]:
        activity = self._base("personal-invoke-adaptiveCard-action", user)
        activity["value"] = {"action": {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **(data or {})}}}
        return activity

    def submit(self, verb: str, data: dict[str, Any] | None = None, user: User = ALEX) -> dict[str, Any]:
        activity = self._base("personal-message-submit", user)
        activity["value"] = {"verb": verb, **(data or {})}
        return activity

    def install(self, user: User = ALEX) -> dict[str, Any]:
        return self._base("personal-installationUpdate", user)


@dataclass
class FakeConnector(LocalServer):
    """Stands in for the Bot Connector service: records what the bot sends."""

    received: list[dict[str, Any]] = field(default_factory=list)
    member_status: int = 200
    member_requests: int = 0
    object_ids: dict[str, str] = field(default_factory=dict)  # Teams user id -> Entra object id, for members
    members_asked: list[tuple[str, str]] = field(default_factory=list)  # (conversation, member)
    # Scripted answers for proactive sends, per conversation id: status codes used up in order, then 201.
    scripted: dict[str, list[int]] = field(default_factory=dict)
    retry_after: str = "1"
    # As Teams: at most this many requests a second to the app (member look-ups counted), then 429.
    requests_per_second: int | None = None
    throttled: int = 0  # 429s given for that limit
    _recent: list[float] = field(default_factory=list)
    # Proactive messages after the first `hold_after` are recorded on arrival, then hang until `release`.
    hold_after: int | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: list[str] = field(default_factory=list)  # conversations proactive messages arrived for, in order
    proactive: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)  # (time, conversation, activity)
    gone: set[str] = field(default_factory=set)  # activity ids of messages deleted from the chat: PUT gets 404
    authorizations: list[str] = field(default_factory=list)  # the Authorization header of each reply

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._proactive)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{reply_to}", self._send)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        await self.serve(app)

    async def _send(self, request: web.Request) -> web.Response:
        if request.method == "PUT" and request.match_info["reply_to"] in self.gone:
            return web.json_response({"error": {"code": "ActivityNotFound"}}, status=404)
        body = await request.json()
        self.authorizations.append(request.headers.get("Authorization", ""))
        body["_conversation"] = request.match_info["conversation"]
        body["_method"] = request.method  # PUT: a message updated in place
        body["_target"] = request.match_info["reply_to"]
        self.received.append(body)
        return web.json_response({"id": f"sent-{len(self.received)}"})

    async def _proactive(self, request: web.Request) -> web.Response:
        """A new message to a conversation: what the bot sends on its own."""
        conversation = request.match_info["conversation"]
        self.arrived.append(conversation)
        if self.hold_after is not None and len(self.arrived) > self.hold_after:
            await self.release.wait()
        script = self.scripted.get(conversation)
        if script:
            status = script.pop(0)
            headers = {"Retry-After": self.retry_after} if status == 429 else {}
            return web.json_response({"error": {"code": "Scripted"}}, status=status, headers=headers)
        body = await request.json()
        self.proactive.append((time.monotonic(), conversation, body))
        return web.json_response({"id": f"sent-{len(self.proactive)}"}, status=201)

    def proactive_cards(self, conversation: str | None = None) -> list[dict[str, Any]]:
        return [
            a["content"]
            for _, c, body in self.proactive
            if conversation in (None, c)
            for a in body.get("attachments", [])
        ]

    def _over_limit(self) -> bool:
        if self.requests_per_second is None:
            return False
        now = time.monotonic()
        self._recent = [t for t in self._recent if t > now - 1.0]
        if len(self._recent) >= self.requests_per_second:
            self.throttled += 1
            return True
        self._recent.append(now)
        return False

    async def _member(self, request: web.Request) -> web.Response:
        self.member_requests += 1
        if self._over_limit():
            return web.json_response({"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"})
        if self.member_status != 200:
            return web.json_response({"error": {"code": "NotFound"}}, status=self.member_status)
        member = request.match_info["member"]
        self.members_asked.append((request.match_info["conversation"], member))
        body = {
            "id": member,
            "name": member,
            "email": f"{member}@example.com",
            "userPrincipalName": f"{member}@example.com",
        }
        if member in self.object_ids:
            body["objectId"] = self.object_ids[member]  # as Teams spells it
        return web.json_response(body)

    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for m in self.received for a in m.get("attachments", [])]

    def last_card(self) -> dict[str, Any]:
        cards = self.cards()
        assert cards, "the bot sent no card"
        return cards[-1]


@dataclass
class BotClient:
    server: TestServer
    http: ClientSession
    activities: Activities
    connector: FakeConnector

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        async with self.http.post(self.url, json=activity, headers=headers or {}) as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, body

    async def say(self, text: str, user: User = ALEX) -> dict[str, Any]:
        before = len(self.connector.received)
        status, _ = await self.post(self.activities.message(text, user))
        assert status == 200
        assert len(self.connector.received) == before + 1, "expected exactly one reply"
        return self.connector.last_card()

    async def say_in_channel(
        self, text: str, user: User = ALEX, channel: str = "team-id", mentions: Sequence[User] = ()
    ) -> dict[str, Any]:
        before = len(self.connector.received)
        status, _ = await self.post(self.activities.channel_message(text, user, channel, mentions))
        assert status == 200
        assert len(self.connector.received) == before + 1, "expected exactly one reply"
        return self.connector.last_card()

    async def click_in_channel(
        self, verb: str, data: dict[str, Any] | None = None, user: User = ALEX, channel: str = "team-id"
    ) -> dict[str, Any]:
        return await self._invoke(self.activities.channel_invoke(verb, data, user, channel))

    async def click(self, verb: str, data: dict[str, Any] | None = None, user: User = ALEX) -> dict[str, Any]:
        return await self._invoke(self.activities.invoke(verb, data, user))

    async def submit(self, verb: str, data: dict[str, Any] | None = None, user: User = ALEX) -> dict[str, Any]:
        """As Teams on a phone: the button's Action.Submit fallback arrives as a message, and the bot changes
        the card it came from in place."""
        before = len(self.connector.received)
        status, _ = await self.post(self.activities.submit(verb, data, user))
        assert status == 200
        assert len(self.connector.received) == before + 1, "expected exactly one answer"
        answer = self.connector.received[-1]
        assert (answer["_method"], answer["_target"]) == ("PUT", "1795891653192"), "the card it came from"
        return self.connector.last_card()

    async def _invoke(self, activity: dict[str, Any]) -> dict[str, Any]:
        status, body = await self.post(activity)
        assert status == 200, body
        assert body["statusCode"] == 200
        assert body["type"] == "application/vnd.microsoft.card.adaptive"
        card: dict[str, Any] = body["value"]
        return card


def all_text(card: dict[str, Any]) -> str:
    """Every piece of text a person would read on a card, in order."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "label", "value", "placeholder"):
                if isinstance(node.get(key), str) and node.get("type") != "Input.ChoiceSet":
                    parts.append(node[key])
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(parts)


def _elements(card: dict[str, Any], wanted: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Every element of the card that `wanted` picks, in order; fallbacks are not walked into."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if wanted(node):
                found.append(node)
            for key, value in node.items():
                if key != "fallback" and isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return _elements(card, lambda node: node.get("type") == "Action.Execute")


def action_titled(card: dict[str, Any], title: str) -> dict[str, Any]:
    for action in actions(card):
        if action["title"] == title:
            return action
    raise AssertionError(f"no action {title!r} in {[a['title'] for a in actions(card)]}")


def inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    return _elements(card, lambda node: str(node.get("type", "")).startswith("Input."))


def form_values(card: dict[str, Any]) -> dict[str, Any]:
    """What Teams would send back from the card's inputs, unchanged."""
    return {element["id"]: element.get("value") for element in inputs(card)}
