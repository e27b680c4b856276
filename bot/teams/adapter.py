"""Builds botbuilder's CloudAdapter from our settings, with the fixes the SDK needs."""

from __future__ import annotations

from dataclasses import dataclass

from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from msrest.universal_http.requests import ClientRetryPolicy

from bot.config import Settings


def apply_msrest_speed_fix() -> None:
    """msrest tests `code not in safe_codes` against a list 999 times per policy, ~4 ms each, twice per
    activity; a frozenset makes it free. Idempotent."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


@dataclass(frozen=True)
class _BotFrameworkConfig:
    """The attribute names botbuilder's configuration readers look for."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None


def create_authenticator(settings: Settings) -> ConfigurationBotFrameworkAuthentication | None:
    """botbuilder's token validation, or None when no app id is set (authentication off)."""
    if not settings.auth_enabled:
        return None
    return ConfigurationBotFrameworkAuthentication(_config(settings))


def _config(settings: Settings) -> _BotFrameworkConfig:
    return _BotFrameworkConfig(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        # botbuilder insists on an app id for SingleTenant; without one, auth is off anyway.
        APP_TYPE=settings.app_type if settings.auth_enabled else "MultiTenant",
        APP_TENANTID=settings.app_tenant_id,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url or None,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=settings.token_issuer or None,
    )


def create_adapter(settings: Settings) -> CloudAdapter:
    """A full CloudAdapter, for the day something needs botbuilder's pipeline (not the request path)."""
    apply_msrest_speed_fix()
    config = _BotFrameworkConfig(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        # botbuilder insists on an app id for SingleTenant; without one, auth is off anyway.
        APP_TYPE=settings.app_type if settings.auth_enabled else "MultiTenant",
        APP_TENANTID=settings.app_tenant_id,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url or None,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=settings.token_issuer or None,
    )
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))

    async def _reraise(_context: object, error: Exception) -> None:
        # Our own turn logic handles every error it can; what reaches here goes to the HTTP handler.
        raise error

    adapter.on_turn_error = _reraise
    return adapter
