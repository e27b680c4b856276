"""The Bot Framework's service-to-service authentication, both ways: the channel's token checked on every
request, as "Authentication with the Bot Connector API" prescribes (learn.microsoft.com/azure/bot-service/
rest-api/bot-framework-rest-connector-authentication, "Connector to your bot"), and the bot's own token for
the Bot Connector, from Entra by the client-credentials grant ("Bot to Connector").

Our own rather than botbuilder's: botbuilder-python is retired (no fixes since 2025-12-31) and its
validation held 23 MiB of the process (msrest, requests, oauthlib, azure-core, MSAL, cryptography) for what
is a few dozen lines; the Agents SDK held more (29 MiB) and its JWT middleware leaves issuer and serviceUrl
unchecked. Only RS256, the algorithm the channel's metadata names, is accepted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from bot.teams.signature import RsaPublicKey, b64url_decode, key_from_jwk, verify_rs256

log = logging.getLogger(__name__)

CHANNEL_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
CHANNEL_ISSUER = "https://api.botframework.com"
BOT_CONNECTOR_SCOPE = "https://api.botframework.com"
LOGIN_URL = "https://login.microsoftonline.com"
MULTI_TENANT_AUTHORITY_TENANT = "botframework.com"
CLOCK_SKEW = 300.0  # seconds either side of a token's validity, the industry standard the article names
KEYS_KEPT = 24 * 3600.0  # the channel's keys change rarely; botbuilder kept them for days
STALE_KEYS_USABLE = 5 * 24 * 3600.0  # while the metadata cannot be read, keys this old still serve
UNKNOWN_KEY_REFETCH = 300.0  # a token signed with a key not yet seen fetches the keys again, this seldom
RETRY_UNREADABLE = 30.0  # while the keys cannot be read, how often reading them is tried again
TOKEN_MARGIN = 300.0  # our own token is renewed this long before it expires
MAX_TOKEN = 16 * 1024  # a Bot Framework token is about 1.5 KB
VERIFIED_KEPT = 64  # tokens whose signature was checked, remembered; the channel sends one for an hour
TIMEOUT = aiohttp.ClientTimeout(total=10)


class KeysUnavailable(Exception):
    """The channel's signing keys could not be fetched: whether a token is genuine cannot be known now."""


class TokenUnavailable(Exception):
    """Entra did not give the bot a token for the Bot Connector."""


@dataclass(frozen=True)
class SigningKey:
    key: RsaPublicKey
    endorsements: frozenset[str]  # the channels (e.g. "msteams") whose activities the key may sign


async def _json(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url, timeout=TIMEOUT) as response:
        if response.status != 200:
            raise KeysUnavailable(f"HTTP {response.status}")
        value = orjson.loads(await response.read())
    if not isinstance(value, dict):
        raise KeysUnavailable("not a JSON object")
    return value


def _keys_of(document: Mapping[str, Any]) -> dict[str, SigningKey]:
    keys: dict[str, SigningKey] = {}
    for jwk in document.get("keys") or ():
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str):
            continue
        try:
            key = key_from_jwk(str(jwk.get("n") or ""), str(jwk.get("e") or ""))
        except ValueError:
            continue
        endorsements = jwk.get("endorsements")
        named = endorsements if isinstance(endorsements, list) else ()
        keys[jwk["kid"]] = SigningKey(key, frozenset(e for e in named if isinstance(e, str)))
    return keys


class SigningKeys:
    """The channel's signing keys, read from its OpenID metadata and kept a day. A key id not among them has
    the keys read again, at most every five minutes. While they cannot be read, they are tried again every
    half minute (not on every request, each waiting out the timeout), and keys up to five days old serve."""

    def __init__(
        self, session: aiohttp.ClientSession, metadata_url: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._session = session
        self._metadata_url = metadata_url
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None  # the last time the keys were read
        self._tried_at: float | None = None  # the last time reading them was tried
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> SigningKey | None:
        """The key with this id; None if the channel has no such key. KeysUnavailable if that cannot be
        known now."""
        if self._should_fetch(kid) or self._lock.locked():  # locked: a reading is under way, its answer awaited
            async with self._lock:
                if self._should_fetch(kid):  # not done meanwhile for a request that waited before this one
                    await self._refresh()
        now = self._clock()
        if self._fetched_at is None or now - self._fetched_at > STALE_KEYS_USABLE:
            raise KeysUnavailable("no signing keys")
        if kid in self._keys:
            return self._keys[kid]
        if self._tried_at is not None and self._tried_at > self._fetched_at:
            raise KeysUnavailable("the keys could not be read again for a key not seen before")
        return None

    def _should_fetch(self, kid: str) -> bool:
        if self._tried_at is None:
            return True
        now = self._clock()
        since_tried = now - self._tried_at
        if self._fetched_at is None or now - self._fetched_at >= KEYS_KEPT:
            return since_tried >= RETRY_UNREADABLE
        return kid not in self._keys and since_tried >= UNKNOWN_KEY_REFETCH

    async def _refresh(self) -> None:
        self._tried_at = self._clock()
        try:
            metadata = await _json(self._session, self._metadata_url)
            jwks_uri = metadata.get("jwks_uri")
            algorithms = metadata.get("id_token_signing_alg_values_supported")
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                raise KeysUnavailable("no jwks_uri")
            if isinstance(algorithms, list) and "RS256" not in algorithms:
                raise KeysUnavailable("the channel does not sign with RS256")
            keys = _keys_of(await _json(self._session, jwks_uri))
            if not keys:
                raise KeysUnavailable("no RSA keys in the key set")
        except (aiohttp.ClientError, TimeoutError, ValueError, KeysUnavailable) as error:
            log.error("the channel's signing keys could not be fetched: %s", type(error).__name__)
            return
        self._keys, self._fetched_at = keys, self._tried_at


@dataclass(frozen=True)
class _Token:
    header: dict[str, Any]
    claims: dict[str, Any]
    signed: bytes  # "header.payload", what the signature is over
    signature: bytes


def _parse(token: str) -> _Token | None:
    parts = token.split(".")
    if len(token) > MAX_TOKEN or len(parts) != 3:
        return None
    try:
        header, claims = orjson.loads(b64url_decode(parts[0])), orjson.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return _Token(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class ChannelAuthenticator:
    """Says whether a request's token is the channel's, for this bot, about this activity. The channel sends
    one token for many requests: a token whose signature was checked is remembered (the last VERIFIED_KEPT of
    them), and only its lifetime, service URL and endorsement are checked again."""

    def __init__(
        self,
        keys: SigningKeys,
        app_id: str,
        issuer: str = CHANNEL_ISSUER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._app_id = app_id
        self._issuer = issuer
        self._clock = clock
        # token -> it read, and the key that signed it
        self._verified: OrderedDict[str, tuple[_Token, SigningKey]] = OrderedDict()

    async def authenticate(self, authorization: str, service_url: str, channel_id: str | None) -> bool:
        """False for a token that is missing, malformed, expired, for another bot or another service URL,
        or not signed by a key the channel endorses for `channel_id`; KeysUnavailable if the keys cannot be
        read now."""
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        known = self._verified.get(credentials)
        token = known[0] if known else _parse(credentials)
        if token is None:
            return False
        claims, kid = token.claims, token.header.get("kid")
        if token.header.get("alg") != "RS256" or not isinstance(kid, str) or not channel_id:
            return False
        audience = claims.get("aud")
        if claims.get("iss") != self._issuer or not (
            audience == self._app_id or (isinstance(audience, list) and self._app_id in audience)
        ):
            return False
        now, expires, not_before = self._clock(), _number(claims.get("exp")), _number(claims.get("nbf", 0))
        if expires is None or not_before is None or not not_before - CLOCK_SKEW <= now <= expires + CLOCK_SKEW:
            return False
        if not service_url or claims.get("serviceurl", claims.get("serviceUrl")) != service_url:
            return False
        if known:
            signing = known[1]
        else:
            found = await self._keys.get(kid)
            if found is None or not verify_rs256(found.key, token.signed, token.signature):
                return False
            signing = found
            self._verified[credentials] = (token, signing)
            if len(self._verified) > VERIFIED_KEPT:
                self._verified.popitem(last=False)
        return channel_id in signing.endorsements


class BotCredentials:
    """The bot's token for the Bot Connector: the client-credentials grant at Entra, kept until five minutes
    before it expires, one request for every caller that needs it meanwhile."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        app_id: str,
        password: str,
        authority: str,
        scope: str = BOT_CONNECTOR_SCOPE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._form = {
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": password,
            "scope": f"{scope.rstrip('/')}/.default",
        }
        self._url = f"{authority.rstrip('/')}/oauth2/v2.0/token"
        self._clock = clock
        self._token = ""
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():  # not fetched meanwhile for a caller that waited before this one
                    await self._fetch()
        return self._token

    def _fresh(self) -> bool:
        return bool(self._token) and self._clock() < self._renew_at

    async def _fetch(self) -> None:
        asked = self._clock()
        try:
            async with self._session.post(self._url, data=self._form, timeout=TIMEOUT) as response:
                body = orjson.loads(await response.read()) if response.status == 200 else None
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise TokenUnavailable(type(error).__name__) from None
        answer = body if isinstance(body, dict) else {}
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if isinstance(lifetime, str) and lifetime.isdigit():  # Entra's v1 endpoint writes it as a string
            lifetime = int(lifetime)
        lifetime = _number(lifetime)
        if not isinstance(token, str) or not token or lifetime is None:
            # Entra's error body names the problem (AADSTS codes), never the secret.
            raise TokenUnavailable(f"HTTP {status}")
        self._token, self._renew_at = token, asked + max(0.0, lifetime - TOKEN_MARGIN)


def authority_for(login_url: str, app_type: str, tenant_id: str) -> str:
    """Where the bot asks for its token: its own tenant when SingleTenant, the Bot Framework's otherwise."""
    tenant = tenant_id if app_type == "SingleTenant" and tenant_id else MULTI_TENANT_AUTHORITY_TENANT
    return f"{(login_url or LOGIN_URL).rstrip('/')}/{tenant}"
