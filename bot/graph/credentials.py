"""The Entra credential Graph calls are made with, chosen by the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential


class GraphNotConfigured(Exception):
    """A setting the chosen kind of credential needs is missing; the message names it."""


def missing_setting(settings: Settings) -> str | None:
    """What the chosen kind of credential lacks, in words for the operator; None when complete."""
    if settings.graph_auth == "managed_identity":
        return None
    if not (settings.graph_client_id or settings.app_id) or not (settings.graph_tenant_id or settings.app_tenant_id):
        return "GRAPH_CLIENT_ID/MicrosoftAppId and GRAPH_TENANT_ID/MicrosoftAppTenantId are needed"
    if settings.graph_auth == "certificate" and not settings.graph_certificate_path:
        return "GRAPH_CERTIFICATE_PATH is needed for GRAPH_AUTH=certificate"
    if settings.graph_auth == "secret" and not (settings.graph_client_secret or settings.app_password):
        return "GRAPH_CLIENT_SECRET/MicrosoftAppPassword is needed for GRAPH_AUTH=secret"
    return None


def create_credential(settings: Settings) -> AsyncTokenCredential:
    """Client secret, certificate or managed identity; the bot's own app registration unless GRAPH_* say other."""
    from azure.identity.aio import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential

    problem = missing_setting(settings)
    if problem:
        raise GraphNotConfigured(problem)
    if settings.graph_auth == "managed_identity":
        # A user-assigned identity is named by its client id; without one, the system-assigned identity.
        return ManagedIdentityCredential(client_id=settings.graph_client_id or None)
    client_id = settings.graph_client_id or settings.app_id
    tenant_id = settings.graph_tenant_id or settings.app_tenant_id
    extra: dict[str, Any] = {"authority": settings.graph_authority_host} if settings.graph_authority_host else {}
    if settings.graph_auth == "certificate":
        return CertificateCredential(tenant_id, client_id, settings.graph_certificate_path, **extra)
    secret = settings.graph_client_secret or settings.app_password
    return ClientSecretCredential(tenant_id, client_id, secret, **extra)
