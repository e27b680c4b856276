"""The Bot Framework's authentication, our own: RS256 signatures checked against `cryptography`'s, every rule
of a channel token, the channel's keys fetched and kept, and the bot's own token from Entra."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import ClientSession, web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm

from bot.teams.auth import (
    KEYS_KEPT,
    RETRY_UNREADABLE,
    STALE_KEYS_USABLE,
    UNKNOWN_KEY_REFETCH,
    BotCredentials,
    ChannelAuthenticator,
    KeysUnavailable,
    SigningKeys,
    TokenUnavailable,
    authority_for,
)
from bot.teams.signature import RsaPublicKey, b64url_decode, key_from_jwk, verify_rs256
from tests.localserver import LocalServer

APP_ID = "11111111-2222-3333-4444-555555555555"
ISSUER = "https://api.botframework.com"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public(key: rsa.RSAPrivateKey) -> RsaPublicKey:
    numbers = key.public_key().public_numbers()
    return RsaPublicKey(numbers.n, numbers.e)


def _sign(message: bytes, key: rsa.RSAPrivateKey = KEY, digest: hashes.HashAlgorithm | None = None) -> bytes:
    return key.sign(message, padding.PKCS1v15(), digest or hashes.SHA256())


# --- the signature -------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(message=st.binary(max_size=2000), flip=st.integers(min_value=0, max_value=2047))
def test_a_genuine_signature_verifies_and_one_flipped_bit_does_not(message: bytes, flip: int) -> None:
    signature = _sign(message)
    assert verify_rs256(_public(KEY), message, signature)
    tampered = bytearray(signature)
    tampered[flip // 8] ^= 1 << (flip % 8)
    assert not verify_rs256(_public(KEY), message, bytes(tampered))
    if message:
        changed = bytearray(message)
        changed[flip % len(message)] ^= 1 << (flip % 8)
        assert not verify_rs256(_public(KEY), bytes(changed), signature)


def test_signatures_that_are_not_this_keys_sha256_pkcs1_are_refused() -> None:
    message = b"header.payload"
    public = _public(KEY)
    assert not verify_rs256(_public(OTHER_KEY), message, _sign(message)), "another key"
    assert not verify_rs256(public, message, _sign(message, OTHER_KEY)), "signed by another key"
    assert not verify_rs256(public, message, _sign(message, digest=hashes.SHA384())), "another digest"
    assert not verify_rs256(public, message, _sign(message, digest=hashes.SHA1())), "another digest"
    pss = KEY.sign(message, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    assert not verify_rs256(public, message, pss), "another padding"
    signature = _sign(message)
    assert not verify_rs256(public, message, signature[1:]), "too short"
    assert not verify_rs256(public, message, b"\x00" + signature), "too long"
    assert not verify_rs256(public, message, public.modulus.to_bytes(public.size, "big")), "not below the modulus"
    assert not verify_rs256(public, message, bytes(public.size)), "zero"


def test_keys_and_base64url_are_read_strictly() -> None:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    assert key_from_jwk(jwk["n"], jwk["e"]) == _public(KEY)
    small = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()))
    with pytest.raises(ValueError, match="usable"):
        key_from_jwk(small["n"], small["e"])
    for text in ["", "ab=", "a+b/", "abcde", "ab cd"]:
        with pytest.raises(ValueError, match="base64url"):
            b64url_decode(text)
    assert b64url_decode("-_8") == b"\xfb\xff"


# --- the channel's keys, served --------------------------------------------------------------------------------


@dataclass
class KeyEndpoint(LocalServer):
    """OpenID metadata and the key set, as login.botframework.com serves them; `down` answers 500."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    fetched: int = 0  # times the key set was read
    algorithms: list[str] = field(default_factory=lambda: ["RS256"])

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/openid", self._metadata)
        app.router.add_get("/keys", self._keys)
        await self.serve(app)

    async def _metadata(self, _: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=500)
        algorithms = self.algorithms
        return web.json_response(
            {"issuer": ISSUER, "jwks_uri": f"{self.url}/keys", "id_token_signing_alg_values_supported": algorithms}
        )

    async def _keys(self, _: web.Request) -> web.Response:
        self.fetched += 1
        return web.json_response({"keys": self.keys})


def jwk_of(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str] | None = None) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, use="sig")
    if endorsements is not None:
        jwk["endorsements"] = endorsements
    return jwk


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def endpoint() -> AsyncIterator[KeyEndpoint]:
    server = KeyEndpoint(keys=[jwk_of(KEY, "k1", ["msteams"])])
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


def token(claims: dict[str, Any] | None = None, key: rsa.RSAPrivateKey = KEY, **header: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": APP_ID, "serviceurl": SERVICE_URL, "nbf": now - 10, "exp": now + 600}
    body.update(claims or {})
    present = {k: v for k, v in body.items() if v is not None}  # None: the claim left out
    return jwt.encode(present, key, algorithm="RS256", headers={"kid": "k1", **header})


async def test_a_channel_token_is_accepted_and_every_rule_refuses_its_own_fault(
    endpoint: KeyEndpoint, http: ClientSession
) -> None:
    check = ChannelAuthenticator(SigningKeys(http, f"{endpoint.url}/openid"), APP_ID, ISSUER)
    now = int(time.time())

    async def accepted(authorization: str, service_url: str = SERVICE_URL, channel: str | None = "msteams") -> bool:
        return await check.authenticate(authorization, service_url, channel)

    assert await accepted(f"Bearer {token()}")
    assert await accepted(f"bearer {token()}"), "the scheme is case-insensitive (RFC 9110)"
    assert await accepted(f"Bearer {token({'aud': ['someone', APP_ID]})}"), "an audience list naming the bot"
    assert await accepted(f"Bearer {token({'exp': now - 250})}"), "within the five minutes' clock skew"
    assert await accepted(f"Bearer {token({'nbf': None})}"), "nbf is optional"
    refused = {
        "no header": "",
        "another scheme": f"Basic {token()}",
        "not a JWT": "Bearer not.a.jwt",
        "two parts": "Bearer " + ".".join(token().split(".")[:2]),
        "too long": "Bearer " + token({"pad": "x" * 20_000}),
        "another issuer": f"Bearer {token({'iss': 'https://sts.windows.net/evil/'})}",
        "another bot": f"Bearer {token({'aud': 'someone-else'})}",
        "no audience": f"Bearer {token({'aud': None})}",
        "expired": f"Bearer {token({'exp': now - 400})}",
        "no expiry": f"Bearer {token({'exp': None})}",
        "expiry not a number": f"Bearer {token({'exp': str(now + 600)})}",
        "not yet valid": f"Bearer {token({'nbf': now + 400})}",
        "another service URL": f"Bearer {token({'serviceurl': 'https://evil.example/'})}",
        "no service URL": f"Bearer {token({'serviceurl': None})}",
        "forged": f"Bearer {token(key=OTHER_KEY)}",
        "unknown key": f"Bearer {token(kid='k2')}",
        "no key id": "Bearer " + jwt.encode({"iss": ISSUER}, KEY, algorithm="RS256"),
        "alg none": "Bearer " + _unsigned(token()),
        # The public key used as an HMAC secret: the classic algorithm confusion.
        "alg HS256": "Bearer " + _hs256(token(), KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.PKCS1)),
    }
    for fault, authorization in refused.items():
        assert not await accepted(authorization), fault
    assert not await accepted(f"Bearer {token()}", service_url="https://evil.example/"), "the activity's service URL"
    assert not await accepted(f"Bearer {token()}", channel="webchat"), "a channel the key is not endorsed for"
    assert not await accepted(f"Bearer {token()}", channel=None), "no channel"


def _unsigned(signed: str) -> str:
    payload = signed.split(".")[1]
    none = jwt.utils.base64url_encode(b'{"alg":"none","kid":"k1"}').decode()
    return f"{none}.{payload}."


def _hs256(signed: str, secret: bytes) -> str:
    """By hand: PyJWT itself refuses to sign with a public key as the secret."""
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","kid":"k1"}').decode()
    payload = signed.split(".")[1]
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{jwt.utils.base64url_encode(mac).decode()}"


async def test_keys_are_read_once_a_day_and_a_new_key_id_reads_them_again_at_most_every_five_minutes(
    endpoint: KeyEndpoint, http: ClientSession
) -> None:
    clock = Clock()
    keys = SigningKeys(http, f"{endpoint.url}/openid", clock)
    assert await keys.get("k1") is not None
    assert await keys.get("k1") is not None
    assert endpoint.fetched == 1, "kept"
    assert await keys.get("k2") is None
    assert endpoint.fetched == 1, "the keys were read a moment ago: no point reading them again"
    clock.now += UNKNOWN_KEY_REFETCH
    assert await keys.get("k2") is None
    assert endpoint.fetched == 2, "a key not seen before, five minutes on: read again"
    assert await keys.get("k2") is None
    assert endpoint.fetched == 2, "not again within five minutes"
    endpoint.keys.append(jwk_of(OTHER_KEY, "k2", ["msteams"]))  # the channel rolls its keys over
    clock.now += UNKNOWN_KEY_REFETCH
    assert await keys.get("k2") is not None
    assert endpoint.fetched == 3
    clock.now += KEYS_KEPT
    assert await keys.get("k1") is not None
    assert endpoint.fetched == 4, "a day later: read again"


async def test_many_requests_at_once_read_the_keys_once(endpoint: KeyEndpoint, http: ClientSession) -> None:
    keys = SigningKeys(http, f"{endpoint.url}/openid")
    found = await asyncio.gather(*(keys.get("k1") for _ in range(20)))
    assert all(key is not None for key in found)
    assert endpoint.fetched == 1


async def test_while_the_keys_cannot_be_read_old_keys_serve_and_without_them_it_is_unknown_not_refused(
    endpoint: KeyEndpoint, http: ClientSession
) -> None:
    clock = Clock()
    keys = SigningKeys(http, f"{endpoint.url}/openid", clock)
    endpoint.down = True
    with pytest.raises(KeysUnavailable):
        await keys.get("k1")
    endpoint.down = False
    with pytest.raises(KeysUnavailable):
        await keys.get("k1")  # not tried again on every request of an outage
    clock.now += RETRY_UNREADABLE
    assert await keys.get("k1") is not None, "tried again half a minute later"
    endpoint.down = True
    clock.now += KEYS_KEPT
    assert await keys.get("k1") is not None, "a day old and unreadable: the keys still serve"
    with pytest.raises(KeysUnavailable):
        await keys.get("k9")  # a key not seen before cannot be looked for now
    clock.now += STALE_KEYS_USABLE
    with pytest.raises(KeysUnavailable):
        await keys.get("k1")


async def test_a_key_set_without_rsa_keys_or_rs256_is_no_key_set(endpoint: KeyEndpoint, http: ClientSession) -> None:
    endpoint.keys = [{"kty": "EC", "kid": "k1", "crv": "P-256", "x": "AA", "y": "AA"}]
    with pytest.raises(KeysUnavailable):
        await SigningKeys(http, f"{endpoint.url}/openid").get("k1")
    endpoint.keys, endpoint.algorithms = [jwk_of(KEY, "k1", ["msteams"])], ["ES256"]
    with pytest.raises(KeysUnavailable):
        await SigningKeys(http, f"{endpoint.url}/openid").get("k1")


async def test_a_key_without_endorsements_signs_for_no_channel(endpoint: KeyEndpoint, http: ClientSession) -> None:
    endpoint.keys = [jwk_of(KEY, "k1")]
    check = ChannelAuthenticator(SigningKeys(http, f"{endpoint.url}/openid"), APP_ID, ISSUER)
    assert not await check.authenticate(f"Bearer {token()}", SERVICE_URL, "msteams")


# --- the bot's own token ---------------------------------------------------------------------------------------


@dataclass
class Entra(LocalServer):
    """The token endpoint of the client-credentials grant."""

    asked: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    expires_in: Any = 3599

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        await self.serve(app)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.asked.append({"tenant": request.match_info["tenant"], **{k: str(v) for k, v in form.items()}})
        await asyncio.sleep(0.01)  # long enough for callers to pile up behind the first
        if self.status != 200:
            return web.json_response({"error": "invalid_client", "error_description": "AADSTS7000215"}, status=400)
        return web.json_response({"access_token": f"token-{len(self.asked)}", "expires_in": self.expires_in})


@pytest.fixture
async def entra() -> AsyncIterator[Entra]:
    server = Entra()
    await server.start()
    yield server
    await server.close()


async def test_the_bot_asks_entra_once_for_a_token_and_keeps_it_until_five_minutes_before_it_expires(
    entra: Entra, http: ClientSession
) -> None:
    clock = Clock()
    tenant = str(uuid.uuid4())
    credentials = BotCredentials(http, APP_ID, "s3cret", authority_for(entra.url, "SingleTenant", tenant), clock=clock)
    tokens = await asyncio.gather(*(credentials.token() for _ in range(10)))
    assert set(tokens) == {"token-1"}
    assert entra.asked == [
        {
            "tenant": tenant,
            "grant_type": "client_credentials",
            "client_id": APP_ID,
            "client_secret": "s3cret",
            "scope": "https://api.botframework.com/.default",
        }
    ]
    clock.now += 3599 - 301
    assert await credentials.token() == "token-1"
    clock.now += 2
    assert await credentials.token() == "token-2"


async def test_a_refused_or_unreadable_token_is_token_unavailable(entra: Entra, http: ClientSession) -> None:
    credentials = BotCredentials(http, APP_ID, "wrong", authority_for(entra.url, "MultiTenant", "ignored"))
    entra.status = 400
    with pytest.raises(TokenUnavailable, match="HTTP 400"):
        await credentials.token()
    assert entra.asked[0]["tenant"] == "botframework.com", "a multi-tenant bot asks the Bot Framework's tenant"
    entra.status, entra.expires_in = 200, "3599"  # Entra's v1 endpoint writes it as a string
    assert await credentials.token() == "token-2"
    unreachable = BotCredentials(http, APP_ID, "s", "http://127.0.0.1:9/nobody")
    with pytest.raises(TokenUnavailable):
        await unreachable.token()


async def test_a_token_checked_once_is_remembered_but_its_lifetime_and_service_url_are_checked_every_time(
    endpoint: KeyEndpoint, http: ClientSession
) -> None:
    clock = Clock()
    clock.now = time.time()
    check = ChannelAuthenticator(SigningKeys(http, f"{endpoint.url}/openid"), APP_ID, ISSUER, clock)
    authorization = f"Bearer {token()}"
    assert await check.authenticate(authorization, SERVICE_URL, "msteams")
    endpoint.keys = []  # were the signature checked again, it could not be
    assert await check.authenticate(authorization, SERVICE_URL, "msteams")
    assert not await check.authenticate(authorization, "https://evil.example/", "msteams")
    assert not await check.authenticate(authorization, SERVICE_URL, "webchat")
    clock.now += 600 + 301
    assert not await check.authenticate(authorization, SERVICE_URL, "msteams"), "expired"
    tampered = authorization[:-4] + ("AAAA" if not authorization.endswith("AAAA") else "BBBB")
    clock.now -= 600
    assert not await check.authenticate(tampered, SERVICE_URL, "msteams"), "another string: checked afresh"
