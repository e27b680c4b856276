"""botbuilder's token validation, configured from our settings, with the fix msrest needs."""

from __future__ import annotations

from botframework.connector.auth import (
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    PasswordServiceClientCredentialFactory,
)
from msrest.universal_http.requests import ClientRetryPolicy

from bot.config import Settings


def apply_msrest_speed_fix() -> None:
    """msrest tests `code not in safe_codes` against a list 999 times per policy, ~4 ms each, twice per
    activity in botbuilder's pipeline; a frozenset makes it free. Idempotent."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


def create_authenticator(settings: Settings) -> BotFrameworkAuthentication | None:
    """Validates the Bot Framework's tokens (issuer, signing keys, endorsements, audience, service URL);
    None when no app id is set, which turns authentication off for local use."""
    if not settings.auth_enabled:
        return None
    apply_msrest_speed_fix()
    # A SingleTenant bot's outgoing tokens come from its own tenant; Multi-tenant ones from botframework.com.
    tenant = settings.app_tenant_id if settings.app_type == "SingleTenant" else None
    return BotFrameworkAuthenticationFactory.create(
        validate_authority=True,
        to_bot_from_channel_open_id_metadata_url=settings.openid_metadata_url or None,
        to_bot_from_channel_token_issuer=settings.token_issuer or None,
        credential_factory=PasswordServiceClientCredentialFactory(settings.app_id, settings.app_password, tenant),
    )
