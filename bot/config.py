"""All settings, read once from the environment or `.env` and checked strictly."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.model import Language

_TENANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Names follow the Bot Framework's own (`MicrosoftAppId`, ...) where it has one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", validation_alias=_env("HOST"))
    port: int = Field(3978, ge=1, le=65535, validation_alias=_env("PORT"))
    database_url: str = Field("sqlite:///data/lartraff.db", validation_alias=_env("DATABASE_URL"))
    # PostgreSQL connections one instance keeps; all instances together must stay within the server's limit.
    database_pool_size: int = Field(32, ge=1, le=500, validation_alias=_env("DATABASE_POOL_SIZE"))

    app_id: str = Field("", validation_alias=_env("MicrosoftAppId", "MICROSOFT_APP_ID"))
    app_password: str = Field("", validation_alias=_env("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD"), repr=False)
    # A client secret is how the bot proves itself to the Bot Connector; a managed identity is not supported.
    app_type: Literal["SingleTenant", "MultiTenant"] = Field(
        "SingleTenant", validation_alias=_env("MicrosoftAppType", "MICROSOFT_APP_TYPE")
    )
    app_tenant_id: str = Field("", validation_alias=_env("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID"))
    openid_metadata_url: str = Field("", validation_alias=_env("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL"))
    token_issuer: str = Field("", validation_alias=_env("TO_BOT_FROM_CHANNEL_TOKEN_ISSUER"))
    # Where the bot gets its own token (the tenant is appended) and for what: another cloud's, or a test's.
    to_channel_from_bot_login_url: str = Field("", validation_alias=_env("TO_CHANNEL_FROM_BOT_LOGIN_URL"))
    to_channel_from_bot_oauth_scope: str = Field(
        "https://api.botframework.com", validation_alias=_env("TO_CHANNEL_FROM_BOT_OAUTH_SCOPE")
    )

    allowed_tenant_ids: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), validation_alias=_env("ALLOWED_TENANT_IDS")
    )
    # An association's member organisations, each with its own Microsoft 365 tenant: "<tenant id>=<name>;…".
    # Their people may use the bot, and are not asked where they work: the tenant says it.
    member_tenants: Annotated[tuple[tuple[str, str], ...], NoDecode] = Field(
        (), validation_alias=_env("MEMBER_TENANTS")
    )
    organiser_ids: Annotated[frozenset[str], NoDecode] = Field(frozenset(), validation_alias=_env("ORGANISER_IDS"))
    organiser_channel_id: str = Field("", validation_alias=_env("ORGANISER_CHANNEL_ID"))
    background_jobs: bool = Field(True, validation_alias=_env("BACKGROUND_JOBS"))
    reminder_days: Annotated[tuple[int, ...], NoDecode] = Field((7, 1), validation_alias=_env("REMINDER_DAYS"))
    digest_minutes: int = Field(60, ge=1, le=7 * 24 * 60, validation_alias=_env("DIGEST_MINUTES"))
    # Months after a session before its free text, attendance names and inactive people's data are purged:
    # set to the municipality's gallringsbeslut.
    retention_months: int = Field(12, ge=1, le=120, validation_alias=_env("RETENTION_MONTHS"))
    outbox_lease_seconds: int = Field(120, ge=1, le=3600, validation_alias=_env("OUTBOX_LEASE_SECONDS"))
    default_language: Language = Field(Language.SV, validation_alias=_env("DEFAULT_LANGUAGE"))
    max_request_bytes: int = Field(256 * 1024, ge=16 * 1024, validation_alias=_env("MAX_REQUEST_BYTES"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("LOG_FORMAT"))
    # OpenTelemetry, off unless one is set (bot/telemetry.py).
    otel_exporter_otlp_endpoint: str = Field("", validation_alias=_env("OTEL_EXPORTER_OTLP_ENDPOINT"))
    applicationinsights_connection_string: str = Field(
        "", validation_alias=_env("APPLICATIONINSIGHTS_CONNECTION_STRING")
    )
    demo_data: str = Field("data/larprojekt-innovation.toml", validation_alias=_env("DEMO_DATA"))
    playground_port: int = Field(56150, ge=1, le=65535, validation_alias=_env("PLAYGROUND_PORT"))

    # Teams meetings through Microsoft Graph; no mailbox: organisers set links by hand.
    graph_mailbox: str = Field("", validation_alias=_env("GRAPH_MAILBOX"))
    graph_auth: Literal["secret", "certificate", "managed_identity"] = Field(
        "secret", validation_alias=_env("GRAPH_AUTH")
    )
    graph_tenant_id: str = Field("", validation_alias=_env("GRAPH_TENANT_ID"))
    graph_client_id: str = Field("", validation_alias=_env("GRAPH_CLIENT_ID"))
    graph_client_secret: str = Field("", validation_alias=_env("GRAPH_CLIENT_SECRET"), repr=False)
    graph_certificate_path: str = Field("", validation_alias=_env("GRAPH_CERTIFICATE_PATH"))
    graph_base_url: str = Field(
        "https://graph.microsoft.com/v1.0", pattern=r"^https?://", validation_alias=_env("GRAPH_BASE_URL")
    )
    graph_authority_host: str = Field("", validation_alias=_env("GRAPH_AUTHORITY_HOST"))
    # Who skips the Teams meeting's lobby: people from the member organisations' tenants wait there otherwise.
    meeting_lobby_bypass: Literal["invited", "organizationAndFederated", "everyone", "off"] = Field(
        "invited", validation_alias=_env("MEETING_LOBBY_BYPASS")
    )
    graph_poll_minutes: int = Field(15, ge=1, le=24 * 60, validation_alias=_env("GRAPH_POLL_MINUTES"))
    graph_lease_seconds: int = Field(120, ge=1, le=3600, validation_alias=_env("GRAPH_LEASE_SECONDS"))

    # The Teams app package (`python app.py package`)
    public_base_url: str = Field("", validation_alias=_env("PUBLIC_BASE_URL"))
    teams_app_id: str = Field("", validation_alias=_env("TEAMS_APP_ID"))
    app_name: str = Field("Lärträff", min_length=1, max_length=30, validation_alias=_env("APP_NAME"))
    app_developer_name: str = Field(
        "Lärträff", min_length=1, max_length=32, validation_alias=_env("APP_DEVELOPER_NAME")
    )
    app_version: str = Field("1.0.0", pattern=r"^\d+\.\d+\.\d+$", validation_alias=_env("APP_VERSION"))

    @field_validator("allowed_tenant_ids", "organiser_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip().lower() for part in value.split(",") if part.strip())
        return value

    @field_validator("member_tenants", mode="before")
    @classmethod
    def _split_member_tenants(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for part in value.split(";"):
            if not part.strip():
                continue
            tenant, equals, name = part.partition("=")
            tenant, name = tenant.strip().lower(), " ".join(name.split())
            if not equals or not _TENANT_ID.fullmatch(tenant) or not 0 < len(name) <= 120:
                raise ValueError(f"MEMBER_TENANTS: write '<tenant id>=<organisation>;…', not {part.strip()!r}")
            pairs[tenant] = name
        return tuple(sorted(pairs.items()))

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(sorted({int(part) for part in value.split(",") if part.strip()}, reverse=True))
        return value

    @property
    def admitted_tenant_ids(self) -> frozenset[str]:
        """Whose activities are taken: the allowed tenants, the member organisations' and, with members, the
        association's own; empty (everyone, for local testing) when neither is set."""
        members = {tenant for tenant, _ in self.member_tenants}
        if not members:
            return self.allowed_tenant_ids
        home = {self.app_tenant_id.lower()} if self.app_tenant_id else set()
        return frozenset(self.allowed_tenant_ids | members | home)

    @property
    def graph_enabled(self) -> bool:
        return bool(self.graph_mailbox)

    @property
    def auth_enabled(self) -> bool:
        """Without an app id the bot accepts unauthenticated local traffic (Agents Playground)."""
        return bool(self.app_id)
