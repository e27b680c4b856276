"""The Bot Connector REST API over one aiohttp session: replies, proactive messages, member look-ups.

Our own client rather than botbuilder's msrest one: we need every answer's status and Retry-After, a
timeout, and no per-message client construction or model (de)serialisation. Every request waits for
its turn in the process's one TeamsRateLimiter, and a 429 blocks what it was about for its Retry-After.
Requests a person waits for (replies, member look-ups) are tried again within a short deadline by the
RetryPolicy; a proactive message is tried once, and the outbox retries it later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from bot import telemetry
from bot.config import Settings
from bot.conversation import ConversationRef
from bot.teams.activity import tenant_of
from bot.teams.auth import BotCredentials, TokenUnavailable, authority_for
from bot.teams.limits import TEAMS_RETRIES, RetryPolicy, TeamsRateLimiter
from bot.turn import MemberInfo, MemberLookup, ObjectIdLookup

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=15)
CARD = "application/vnd.microsoft.card.adaptive"
REPLY_SECONDS = 10.0  # how long a reply is tried again: the person is looking at the chat
LOOKUP_SECONDS = 3.0  # how long a member look-up is tried again: a turn waits for it


@dataclass(frozen=True)
class SendResult:
    status: int  # the HTTP status; 0 when Teams could not be reached at all
    retry_after: float | None = None
    activity_id: str | None = None  # the new message's id, to update it later


def _activity_id(content: bytes) -> str | None:
    try:
        answer = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None
    value = answer.get("id") if isinstance(answer, dict) else None
    return value if isinstance(value, str) and value else None


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date; the backoff applies instead


def _operation(url: str) -> str:
    """ "activities", "members" or "conversations": what a connector URL does, without its ids."""
    path = url.split("/v3/", 1)[-1]
    if "/members/" in path:
        return "members"
    return "activities" if "/activities" in path else "conversations"


def _conversation_url(service_url: str, conversation_id: str) -> str:
    return f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}"


class BotConnector:
    def __init__(
        self,
        settings: Settings,
        session: aiohttp.ClientSession,
        limiter: TeamsRateLimiter | None = None,
        policy: RetryPolicy = TEAMS_RETRIES,
    ) -> None:
        self._session = session
        self._limiter = limiter or TeamsRateLimiter()
        self._policy = policy
        self._credentials = (
            BotCredentials(
                session,
                settings.app_id,
                settings.app_password,
                authority_for(settings.to_channel_from_bot_login_url, settings.app_type, settings.app_tenant_id),
                settings.to_channel_from_bot_oauth_scope,
            )
            if settings.auth_enabled
            else None
        )

    async def _headers(self) -> dict[str, str]:
        if self._credentials is None:
            return {"Content-Type": "application/json"}
        # Kept until shortly before it expires: only the first request an hour reaches Entra.
        return {"Content-Type": "application/json", "Authorization": f"Bearer {await self._credentials.token()}"}

    async def _request(
        self,
        method: str,
        url: str,
        conversation: str | None,
        tenant: str,
        body: bytes | None = None,
        *,
        seconds: float = 0.0,
        ready: Callable[[], Awaitable[bool]] | None = None,
    ) -> tuple[SendResult, bytes]:
        """One request within Teams' limits (`conversation`: the one a message goes to; None for a request
        that is no message); tried again for up to `seconds` while the answer is worth another try.
        `ready` is asked once the limiter lets the request go: False, and it does not go (status -1)."""
        deadline = self._limiter.now() + seconds
        attempts = 0
        while True:
            await self._limiter.acquire(conversation, tenant)
            if ready is not None and not await ready():
                return SendResult(-1), b""
            ready = None
            result, content = await self._once(method, url, body)
            if result.status not in self._policy.retryable:
                return result, content
            delay = self._policy.delay(attempts, result.retry_after)
            if result.status == 429:
                self._limiter.back_off(conversation, delay, tenant)
            if self._limiter.now() + delay > deadline:
                return result, content
            attempts += 1
            await self._limiter.sleep(delay)

    async def _once(self, method: str, url: str, body: bytes | None) -> tuple[SendResult, bytes]:
        # The span names the kind of request, not the conversation (an id of a person's chat).
        with telemetry.span("teams", {"http.request.method": method, "teams.operation": _operation(url)}):
            try:
                headers = await self._headers()
                async with self._session.request(method, url, data=body, headers=headers, timeout=TIMEOUT) as response:
                    content = await response.read()
                    if response.status == 429:
                        telemetry.throttled("teams")
                    return SendResult(response.status, _retry_after(response.headers)), content
            except TokenUnavailable as error:
                log.error("no token for the Bot Connector from Entra: %s", error)
                return SendResult(0), b""
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.info("Bot Connector not reached: %s", type(error).__name__)
                return SendResult(0), b""

    async def send(
        self,
        to: ConversationRef,
        card: dict[str, Any],
        ready: Callable[[], Awaitable[bool]] | None = None,
        *,
        summary: str = "",
    ) -> SendResult:
        """A new message in a conversation (proactive), tried once; `ready` as for `_request`. `summary` is
        what the chat list and the notification show instead of "Sent a card"."""
        activity: dict[str, Any] = {
            "type": "message",
            "conversation": {"id": to.conversation_id},
            "attachments": [{"contentType": CARD, "content": card}],
        }
        if summary:
            activity["summary"] = summary
        if to.bot_id:
            activity["from"] = {"id": to.bot_id}
        url = f"{_conversation_url(to.service_url, to.conversation_id)}/activities"
        body = orjson.dumps(activity)
        result, content = await self._request("POST", url, to.conversation_id, to.tenant_id, body, ready=ready)
        if 200 <= result.status < 300:
            return SendResult(result.status, result.retry_after, _activity_id(content))
        return result

    async def update(
        self,
        to: ConversationRef,
        activity_id: str,
        card: dict[str, Any],
        ready: Callable[[], Awaitable[bool]] | None = None,
    ) -> SendResult:
        """Replaces the card of one of our earlier messages, tried once (the outbox tries again)."""
        activity: dict[str, Any] = {
            "type": "message",
            "id": activity_id,
            "conversation": {"id": to.conversation_id},
            "attachments": [{"contentType": CARD, "content": card}],
        }
        if to.bot_id:
            activity["from"] = {"id": to.bot_id}
        url = f"{_conversation_url(to.service_url, to.conversation_id)}/activities/{quote(activity_id, safe='')}"
        result, _ = await self._request(
            "PUT", url, to.conversation_id, to.tenant_id, orjson.dumps(activity), ready=ready
        )
        return result

    async def reply(self, incoming: Mapping[str, Any], card: dict[str, Any]) -> SendResult:
        """The answer to an incoming message, in its conversation (and thread)."""
        conversation = dict(incoming["conversation"])
        activity = {
            "type": "message",
            "channelId": incoming.get("channelId"),
            "serviceUrl": incoming["serviceUrl"],
            "conversation": conversation,
            "from": incoming.get("recipient"),
            "recipient": incoming.get("from"),
            "replyToId": incoming.get("id"),
            "attachments": [{"contentType": CARD, "content": card}],
        }
        base = _conversation_url(incoming["serviceUrl"], conversation["id"])
        url = f"{base}/activities/{quote(str(incoming.get('id') or ''), safe='')}"
        body = orjson.dumps(activity)
        result, _ = await self._request(
            "POST", url, str(conversation["id"]), tenant_of(incoming), body, seconds=REPLY_SECONDS
        )
        if not 200 <= result.status < 300:
            log.warning("reply not accepted by the Bot Connector: HTTP %s", result.status)
        return result

    async def update_in_place(self, incoming: Mapping[str, Any], card: dict[str, Any]) -> SendResult:
        """Replaces the card an Action.Submit came from (the message `replyToId` names) with `card`: a phone
        sees the card change as a desktop does with Action.Execute, and no new message tells an old story."""
        conversation = dict(incoming["conversation"])
        message_id = str(incoming.get("replyToId") or "")
        activity = {
            "type": "message",
            "id": message_id,
            "conversation": conversation,
            "from": incoming.get("recipient"),
            "attachments": [{"contentType": CARD, "content": card}],
        }
        base = _conversation_url(incoming["serviceUrl"], conversation["id"])
        url = f"{base}/activities/{quote(message_id, safe='')}"
        result, _ = await self._request(
            "PUT", url, str(conversation["id"]), tenant_of(incoming), orjson.dumps(activity), seconds=REPLY_SECONDS
        )
        return result

    async def _member(self, incoming: Mapping[str, Any], teams_id: str) -> dict[str, Any] | None:
        """A member of the activity's conversation, as Teams describes them; None when it will not say.
        In a team, asked of the team, as botbuilder's TeamsInfo.get_member does: a channel thread's
        conversation id carries ";messageid=…"."""
        channel_data = incoming.get("channelData")
        team = channel_data.get("team") if isinstance(channel_data, Mapping) else None
        team_id = team.get("id") if isinstance(team, Mapping) else None
        base = _conversation_url(incoming["serviceUrl"], str(team_id or incoming["conversation"]["id"]))
        url = f"{base}/members/{quote(teams_id, safe='')}"
        result, content = await self._request("GET", url, None, tenant_of(incoming), seconds=LOOKUP_SECONDS)
        if result.status != 200:
            return None
        try:
            member = orjson.loads(content)
        except orjson.JSONDecodeError:
            return None
        return member if isinstance(member, dict) else None

    def member_lookup(self, incoming: Mapping[str, Any]) -> MemberLookup:
        """Asks for the sender's e-mail (or UPN) when needed; activities do not carry it."""

        async def lookup() -> MemberInfo | None:
            member = await self._member(incoming, str((incoming.get("from") or {}).get("id")))
            email = member and (member.get("email") or member.get("userPrincipalName"))
            return MemberInfo(email=str(email)) if email else None

        return lookup

    def object_id_lookup(self, incoming: Mapping[str, Any]) -> ObjectIdLookup:
        """A member of this conversation's Entra object id, for someone @mentioned by their Teams id."""

        async def lookup(teams_id: str) -> str | None:
            member = await self._member(incoming, teams_id)
            # Teams says objectId; the Bot Framework's schema calls it aadObjectId.
            object_id = member and (member.get("objectId") or member.get("aadObjectId"))
            return str(object_id) if object_id else None

        return lookup
