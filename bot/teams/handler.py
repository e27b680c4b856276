"""POST /api/messages: authenticate, turn the Activity into our Turn, route it, answer as Teams expects."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Protocol

from aiohttp import web
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.invoke_response import InvokeResponse
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes

from bot.domain.model import PersonKey
from bot.services.participants import Actor
from bot.services.ports import ConversationRef
from bot.turn import ConversationKind, MemberInfo, MemberLookup, Reply, Turn, TurnKind

log = logging.getLogger(__name__)

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_MENTION = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


class TurnRouter(Protocol):
    async def handle(self, turn: Turn) -> Reply: ...

    def translator_for_locale(self, locale: str | None) -> Any: ...


class TenantNotAllowed(Exception):
    pass


class _ApologyCard(Protocol):
    def __call__(self, t: Any, correlation_id: str) -> dict[str, Any]: ...


def tenant_of(activity: Activity) -> str:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") or {}
    tenant_id = tenant.get("id") if isinstance(tenant, dict) else None
    return str(tenant_id or getattr(activity.conversation, "tenant_id", None) or "")


def channel_of(activity: Activity) -> str | None:
    """The Teams channel id; conversation.id also carries ';messageid=' in a thread."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = channel_data.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    return None


def clean_text(text: str | None) -> str:
    """Remove @mentions and markup; Teams wraps a mention of the bot in <at>…</at>."""
    without_mentions = _MENTION.sub(" ", text or "")
    return " ".join(_TAGS.sub(" ", without_mentions).replace("&nbsp;", " ").split())


def member_lookup(context: TurnContext) -> MemberLookup:
    """Asks the Bot Connector for the sender's e-mail (or UPN); activities do not carry it."""

    async def lookup() -> MemberInfo | None:
        member = await TeamsInfo.get_member(context, context.activity.from_property.id)
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        return MemberInfo(email=str(email)) if email else None

    return lookup


def to_turn(activity: Activity, lookup: MemberLookup | None = None) -> Turn:
    """Everything inward of here sees only our own types."""
    sender = activity.from_property
    conversation_type = getattr(activity.conversation, "conversation_type", None) or "personal"
    try:
        conversation = ConversationKind(conversation_type)
    except ValueError:
        conversation = ConversationKind.GROUP
    reach = None
    if conversation is ConversationKind.PERSONAL and activity.recipient is not None:
        reach = ConversationRef(str(activity.service_url), str(activity.conversation.id), str(activity.recipient.id))
    actor = Actor(
        key=PersonKey(tenant_of(activity), str(sender.aad_object_id or sender.id)),
        name=str(sender.name or ""),
        teams_locale=activity.locale,
        reach=reach,
    )
    common: dict[str, Any] = {
        "activity_id": str(activity.id or uuid.uuid4()),
        "actor": actor,
        "conversation": conversation,
        "channel_id": channel_of(activity),
        "service_url": str(activity.service_url or ""),
    }
    if lookup is not None:
        common["lookup_member"] = lookup

    if activity.type == ActivityTypes.invoke:
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        if activity.name != ADAPTIVE_CARD_ACTION or not action:
            return Turn(kind=TurnKind.IGNORED, **common)
        raw = action.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return Turn(kind=TurnKind.CARD_ACTION, verb=str(action.get("verb") or ""), data=data, is_invoke=True, **common)
    if activity.type == ActivityTypes.message:
        if isinstance(activity.value, dict) and activity.value.get("verb"):
            # An Action.Submit (the fallback of our Action.Execute) arrives as a message with a value.
            data = activity.value
            return Turn(kind=TurnKind.CARD_ACTION, verb=str(data.get("verb")), data=data, **common)
        return Turn(kind=TurnKind.MESSAGE, text=clean_text(activity.text), **common)
    if activity.type == ActivityTypes.installation_update and (activity.action or "").startswith("add"):
        return Turn(kind=TurnKind.INSTALL, **common)
    if activity.type == ActivityTypes.installation_update and (activity.action or "").startswith("remove"):
        return Turn(kind=TurnKind.UNINSTALL, **common)
    # Teams sends conversationUpdate (bot added) as well as installationUpdate on install: welcome once.
    return Turn(kind=TurnKind.IGNORED, **common)


def _json_body(body: Any) -> Any:
    if hasattr(body, "serialize"):  # still a msrest Model
        return body.serialize()
    return body


class MessagesEndpoint:
    def __init__(
        self,
        adapter: CloudAdapter,
        router: TurnRouter,
        apology_card: _ApologyCard,
        allowed_tenants: frozenset[str],
    ) -> None:
        self._adapter = adapter
        self._router = router
        self._apology_card = apology_card
        self._allowed_tenants = allowed_tenants

    async def post(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return _problem(HTTPStatus.BAD_REQUEST, "malformed JSON")
        activity = _parse_activity(body)
        if activity is None:
            return _problem(HTTPStatus.BAD_REQUEST, "not a valid activity")

        logic_started = False

        async def logic(context: TurnContext) -> None:
            nonlocal logic_started
            logic_started = True
            await self._on_turn(context)

        try:
            response = await self._adapter.process_activity(request.headers.get("Authorization", ""), activity, logic)
        except TenantNotAllowed:
            log.warning("activity from a tenant that is not allowed")
            return _problem(HTTPStatus.FORBIDDEN, "tenant not allowed")
        except Exception as error:
            if logic_started:
                raise
            log.info("authentication failed: %s", type(error).__name__)
            return _problem(HTTPStatus.UNAUTHORIZED, "unauthorized")
        if response is None:
            return web.Response(status=HTTPStatus.OK)
        if response.body is None:
            return web.Response(status=response.status)
        return web.json_response(_json_body(response.body), status=response.status)

    async def _on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        if self._allowed_tenants and tenant_of(activity).lower() not in self._allowed_tenants:
            raise TenantNotAllowed()
        turn = to_turn(activity, member_lookup(context))
        try:
            reply = await self._router.handle(turn)
        except Exception:
            correlation_id = uuid.uuid4().hex[:12]
            log.exception(
                "unexpected error while handling a turn [%s]", correlation_id, extra={"correlation_id": correlation_id}
            )
            t = self._router.translator_for_locale(activity.locale)
            reply = Reply(self._apology_card(t, correlation_id))
        await self._send(context, turn, reply)

    async def _send(self, context: TurnContext, turn: Turn, reply: Reply) -> None:
        if turn.is_invoke:
            body = (
                {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": reply.card}
                if reply.card
                else {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": ""}
            )
            await context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=HTTPStatus.OK, body=body))
            )
            return
        if reply.card is not None:
            await context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(reply.card)))


def _parse_activity(body: Any) -> Activity | None:
    if not isinstance(body, Mapping) or not isinstance(body.get("type"), str):
        return None
    try:
        activity = Activity().deserialize(body)
    except Exception:  # noqa: BLE001 - msrest raises a variety of errors for bad shapes
        return None
    if not activity.service_url or activity.conversation is None or activity.from_property is None:
        return None
    if not activity.conversation.id or not activity.from_property.id:
        return None
    return activity


def _problem(status: HTTPStatus, detail: str) -> web.Response:
    return web.json_response({"error": detail}, status=status)
