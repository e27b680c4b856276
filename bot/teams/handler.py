"""POST /api/messages: authenticate, turn the activity into our Turn, route it, answer as Teams expects.

`bot.teams.auth` checks the token (the Bot Framework's rules for issuer, audience, lifetime, signing key,
endorsement and service URL); everything else is done here on the activity's JSON. botbuilder's pipeline,
which this replaced, cost about 15 ms of CPU per activity (msrest models, deep copies, a connector client
per turn), ten times the rest of the turn.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Protocol

import aiohttp
import orjson
from aiohttp import web

from bot import telemetry
from bot.conversation import Actor, ConversationKind, ConversationRef
from bot.domain.model import PersonKey
from bot.logs import bind, bound
from bot.teams.activity import as_dict as _dict
from bot.teams.activity import tenant_of
from bot.teams.auth import KeysUnavailable
from bot.teams.connector import BotConnector
from bot.turn import MemberLookup, Mention, ObjectIdLookup, Reply, Turn, TurnKind

log = logging.getLogger(__name__)

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"
MAX_NAME = 200  # people.name
MAX_ID = 64  # tenant ids and Entra object ids are GUIDs (36); what identifies a person is stored in 64
MAX_REFERENCE = 500  # conversation ids and service URLs, as stored to write to a person later
MAX_DEPTH = 32  # an activity nests a handful of levels; orjson refuses to write more than 255 at all
MAX_CHANNEL = 300  # series.organiser_channel_id
MAX_BOT_ID = 200  # people.bot_id
MAX_LOCALE = 20  # people.teams_locale
_MENTION = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


class TurnRouter(Protocol):
    async def handle(self, turn: Turn) -> Reply: ...

    def translator_for_locale(self, locale: str | None) -> Any: ...


class Authenticator(Protocol):
    """Whether a request's token is the channel's; raises KeysUnavailable when that cannot be known now."""

    async def authenticate(self, authorization: str, service_url: str, channel_id: str | None) -> bool: ...


class _ApologyCard(Protocol):
    def __call__(self, t: Any, correlation_id: str) -> dict[str, Any]: ...


def channel_of(activity: Mapping[str, Any]) -> str | None:
    """The Teams channel id; conversation.id also carries ';messageid=' in a thread."""
    channel = _dict(_dict(activity.get("channelData")).get("channel")).get("id")
    return str(channel) if channel else None


def clean_text(text: str | None) -> str:
    """Remove @mentions and markup; Teams wraps a mention of the bot in <at>…</at>."""
    without_mentions = _MENTION.sub(" ", text or "")
    return " ".join(_TAGS.sub(" ", without_mentions).replace("&nbsp;", " ").split())


def mentions_of(activity: Mapping[str, Any]) -> tuple[Mention, ...]:
    """The people @mentioned in a message, without the bot itself."""
    bot = str(_dict(activity.get("recipient")).get("id") or "")
    entities = activity.get("entities")
    found = []
    for entity in entities if isinstance(entities, list) else []:
        mentioned = _dict(_dict(entity).get("mentioned"))
        teams_id = str(mentioned.get("id") or "")
        if _dict(entity).get("type") == "mention" and teams_id and teams_id != bot:
            found.append(Mention(teams_id, str(mentioned.get("name") or "")[:MAX_NAME]))
    return tuple(found)


def to_turn(
    activity: Mapping[str, Any], lookup: MemberLookup | None = None, object_ids: ObjectIdLookup | None = None
) -> Turn:
    """Everything inward of here sees only our own types."""
    sender = _dict(activity.get("from"))
    conversation_data = _dict(activity.get("conversation"))
    try:
        conversation = ConversationKind(conversation_data.get("conversationType") or "personal")
    except ValueError:
        conversation = ConversationKind.GROUP
    service_url = str(activity.get("serviceUrl") or "")
    reach = None
    recipient = _dict(activity.get("recipient"))
    if conversation is ConversationKind.PERSONAL:
        reach = ConversationRef(
            service_url, str(conversation_data.get("id")), str(recipient.get("id") or ""), tenant_of(activity)
        )
    actor = Actor(
        key=PersonKey(tenant_of(activity), str(sender.get("aadObjectId") or sender.get("id"))),
        name=str(sender.get("name") or "")[:MAX_NAME],  # Entra allows 256 characters; we keep 200
        teams_locale=str(activity["locale"]) if 0 < len(activity.get("locale") or "") <= MAX_LOCALE else None,
        reach=reach,
    )
    common: dict[str, Any] = {
        "activity_id": str(activity.get("id") or uuid.uuid4()),
        "actor": actor,
        "conversation": conversation,
        "channel_id": channel_of(activity),
        "service_url": service_url,
    }
    if lookup is not None:
        common["lookup_member"] = lookup
    if object_ids is not None:
        common["lookup_object_id"] = object_ids
    kind = activity.get("type")
    value = _dict(activity.get("value"))
    if kind == "invoke":
        action = _dict(value.get("action"))
        if activity.get("name") != ADAPTIVE_CARD_ACTION or not action:
            return Turn(kind=TurnKind.IGNORED, **common)
        data = _dict(action.get("data"))
        return Turn(kind=TurnKind.CARD_ACTION, verb=str(action.get("verb") or ""), data=data, is_invoke=True, **common)
    if kind == "message":
        if value.get("verb"):
            # An Action.Submit (the fallback of our Action.Execute) arrives as a message with a value.
            return Turn(kind=TurnKind.CARD_ACTION, verb=str(value["verb"]), data=value, **common)
        text = clean_text(activity.get("text"))
        return Turn(kind=TurnKind.MESSAGE, text=text, mentions=mentions_of(activity), **common)
    action_name = str(activity.get("action") or "")
    if kind == "installationUpdate" and action_name.startswith("add"):
        return Turn(kind=TurnKind.INSTALL, **common)
    if kind == "installationUpdate" and action_name.startswith("remove"):
        return Turn(kind=TurnKind.UNINSTALL, **common)
    # Teams sends conversationUpdate (bot added) as well as installationUpdate on install: welcome once.
    return Turn(kind=TurnKind.IGNORED, **common)


def _parse(body: bytes) -> dict[str, Any] | None:
    """The activity, if it has the shape Teams gives it: None (answered 400) for anything else, before
    anything is stored, so that no field of the wrong type or length reaches a database column."""
    try:
        activity = orjson.loads(body)
    except ValueError:  # orjson's JSONDecodeError, invalid UTF-8 included
        return None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str) or _too_deep(activity):
        return None
    conversation, sender = activity.get("conversation"), activity.get("from")
    if not (isinstance(conversation, dict) and isinstance(sender, dict)):
        return None
    if not _text(activity.get("serviceUrl"), MAX_REFERENCE) or not _text(conversation.get("id"), MAX_REFERENCE):
        return None
    if not activity["serviceUrl"].startswith(("https://", "http://")):  # where every answer would go
        return None
    person = sender.get("aadObjectId") or sender.get("id")
    if not _text(sender.get("id"), MAX_REFERENCE) or not _text(person, MAX_ID):
        return None
    if len(tenant_of(activity)) > MAX_ID or len(channel_of(activity) or "") > MAX_CHANNEL:
        return None
    recipient = activity.get("recipient")
    if isinstance(recipient, dict) and len(str(recipient.get("id") or "")) > MAX_BOT_ID:
        return None
    optional_text = ("text", "locale", "name", "action", "id", "channelId")
    if any(activity.get(key) is not None and not isinstance(activity[key], str) for key in optional_text):
        return None
    if not all(isinstance(activity.get(key), dict) for key in ("value", "recipient", "channelData") if key in activity):
        return None
    return activity


def _text(value: Any, longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest


def _too_deep(value: Any) -> bool:
    level: list[Any] = [value]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


class MessagesEndpoint:
    def __init__(
        self,
        authenticator: Authenticator | None,
        connector: BotConnector,
        router: TurnRouter,
        apology_card: _ApologyCard,
        allowed_tenants: frozenset[str],
    ) -> None:
        self._authenticator = authenticator  # None: authentication is off (no app id configured)
        self._connector = connector
        self._router = router
        self._apology_card = apology_card
        self._allowed_tenants = allowed_tenants

    async def post(self, request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except (ConnectionError, aiohttp.ClientPayloadError) as error:
            log.debug("the client went away before its request had arrived: %s", type(error).__name__)
            return _problem(HTTPStatus.BAD_REQUEST, "request incomplete")
        activity = _parse(body)
        if activity is None:
            return _problem(HTTPStatus.BAD_REQUEST, "not a valid activity")
        tenant = tenant_of(activity)
        bind(activity_id=str(activity.get("id") or "")[:100], tenant=tenant[:64])
        with telemetry.turn(str(activity.get("type") or ""), tenant[:64]) as result:
            response = await self._answer(activity, tenant, request.headers.get("Authorization", ""), result)
            result["route"] = bound("route")
            result.setdefault("outcome", str(response.status))
        return response

    async def _answer(
        self, activity: Mapping[str, Any], tenant: str, authorization: str, result: dict[str, str | int | bool]
    ) -> web.Response:
        authenticated = await self._authenticated(activity, authorization)
        if authenticated is None:
            # Our outage, not a forged token: Teams retries a 503, and the admin sees it as such.
            return _problem(HTTPStatus.SERVICE_UNAVAILABLE, "signing keys unavailable")
        if not authenticated:
            return _problem(HTTPStatus.UNAUTHORIZED, "unauthorized")
        if self._allowed_tenants and tenant.lower() not in self._allowed_tenants:
            log.warning("activity from a tenant that is not allowed")
            return _problem(HTTPStatus.FORBIDDEN, "tenant not allowed")
        turn = to_turn(activity, self._connector.member_lookup(activity), self._connector.object_id_lookup(activity))
        try:
            reply = await self._router.handle(turn)
        except Exception:
            result["outcome"] = "error"
            correlation_id = uuid.uuid4().hex[:12]
            log.exception(
                "unexpected error while handling a turn [%s]", correlation_id, extra={"correlation_id": correlation_id}
            )
            reply = Reply(
                self._apology_card(self._router.translator_for_locale(activity.get("locale")), correlation_id)
            )
        if turn.is_invoke:
            if reply.card is None:
                return json_response({"statusCode": 200, "type": MESSAGE_CONTENT_TYPE, "value": ""})
            return json_response({"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": reply.card})
        if turn.kind is TurnKind.IGNORED and activity.get("type") == "invoke":
            # A card action without its action, or an invoke of a feature the app does not declare (the
            # manifest has no message extensions, tabs or sign-in): nothing a 5xx would let Teams retry.
            return _problem(HTTPStatus.BAD_REQUEST, "not an invoke this bot answers")
        if reply.card is None:
            return web.Response(status=HTTPStatus.OK)
        if turn.kind is TurnKind.CARD_ACTION and activity.get("replyToId"):
            # A phone's Action.Submit: the clicked card changes in place, as Action.Execute's does.
            updated = await self._connector.update_in_place(activity, reply.card)
            if 200 <= updated.status < 300:
                return web.Response(status=HTTPStatus.OK)
            log.info("the clicked card could not be updated (HTTP %s): answered below it", updated.status)
        await self._connector.reply(activity, reply.card)
        return web.Response(status=HTTPStatus.OK)

    async def _authenticated(self, activity: Mapping[str, Any], header: str) -> bool | None:
        """Whether the token is the channel's; None when that cannot be known now (the signing keys could not
        be fetched)."""
        if self._authenticator is None:
            return True
        try:
            accepted = await self._authenticator.authenticate(
                header, str(activity.get("serviceUrl") or ""), activity.get("channelId")
            )
        except KeysUnavailable:
            log.warning("the channel's signing keys are unavailable: the request is answered 503")
            return None
        if not accepted:
            log.info("authentication failed")
        return accepted


def _problem(status: HTTPStatus, detail: str) -> web.Response:
    return json_response({"error": detail}, status=status)


def json_response(value: Any, status: int = HTTPStatus.OK) -> web.Response:
    # orjson: the card is serialised once, several times faster than json.dumps.
    return web.Response(body=orjson.dumps(value), status=status, content_type="application/json")
