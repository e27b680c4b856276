"""Proactive sends: one card to a stored conversation, over the Bot Connector REST API, with its HTTP status."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from botframework.connector.auth import MicrosoftAppCredentials

from bot.config import Settings
from bot.services.ports import ConversationRef

log = logging.getLogger(__name__)

SEND_TIMEOUT = aiohttp.ClientTimeout(total=15)


@dataclass(frozen=True)
class SendResult:
    status: int  # the HTTP status; 0 when Teams could not be reached at all
    retry_after: float | None = None


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date; the backoff applies instead


class Messenger:
    """Own aiohttp session rather than botbuilder's msrest client: we need the status and Retry-After of
    every answer, a timeout, and no per-message client construction."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self._session = session
        self._credentials = (
            MicrosoftAppCredentials(
                settings.app_id,
                settings.app_password,
                channel_auth_tenant=settings.app_tenant_id or None,
            )
            if settings.auth_enabled
            else None
        )

    async def _token(self) -> str | None:
        if self._credentials is None:
            return None
        # MSAL is synchronous and caches the token; only the first call per hour reaches Entra.
        token: str = await asyncio.to_thread(self._credentials.get_access_token)
        return token

    async def send(self, to: ConversationRef, card: dict[str, Any]) -> SendResult:
        url = f"{to.service_url.rstrip('/')}/v3/conversations/{quote(to.conversation_id, safe='')}/activities"
        activity: dict[str, Any] = {
            "type": "message",
            "conversation": {"id": to.conversation_id},
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
        if to.bot_id:
            activity["from"] = {"id": to.bot_id}
        headers = {}
        try:
            token = await self._token()
            if token:
                headers["Authorization"] = f"Bearer {token}"
            async with self._session.post(url, json=activity, headers=headers, timeout=SEND_TIMEOUT) as response:
                await response.read()
                return SendResult(response.status, _retry_after(response.headers))
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.info("proactive send failed to connect: %s", type(error).__name__)
            return SendResult(0)
