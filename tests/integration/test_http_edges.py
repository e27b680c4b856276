"""The HTTP edge: authentication (tokens signed by a local key), bad input, tenants, health, crashes."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import func, select

from bot.config import Settings
from bot.logs import TurnFilter
from bot.services import participants
from bot.storage import tables
from bot.storage.engine import Database
from cards import verbs
from tests.conftest import FakeClock, seed_demo
from tests.integration.conftest import start_bot
from tests.integration.harness import TENANT, BotClient, FakeConnector, all_text, session_ids

APP_ID = "11111111-2222-3333-4444-555555555555"
ISSUER = "https://api.botframework.com"
BOT_TOKEN = "the-bots-token-from-entra"


class KeyServer:
    """OpenID metadata and JWKS, and Entra's token endpoint, on 127.0.0.1, served from a thread of their own."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": ["msteams"]})
        keys = {"keys": [jwk]}
        server_ref: dict[str, ThreadingHTTPServer] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                port = server_ref["server"].server_address[1]
                if self.path == "/openid":
                    body: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": f"http://127.0.0.1:{port}/keys"}
                elif self.path == "/keys":
                    body = keys
                else:
                    self.send_error(404)
                    return
                self._json(body)

            def do_POST(self) -> None:
                if self.path != f"/{TENANT}/oauth2/v2.0/token":
                    self.send_error(404)
                    return
                form = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if "client_secret=the-bots-secret" not in form:
                    self.send_error(401)
                    return
                self._json({"access_token": BOT_TOKEN, "expires_in": 3599, "token_type": "Bearer"})

            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server_ref["server"] = self.server
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/openid"

    @property
    def login_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def token(
        self,
        service_url: str,
        *,
        audience: str = APP_ID,
        expires_in: int = 600,
        key: Any = None,
        kid: str | None = None,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now - 10,
            "iat": now - 10,
            "exp": now + expires_in,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.close()


def _secured(database_url: str, metadata_url: str, login_url: str = "http://127.0.0.1:9") -> Settings:
    """A bot that checks tokens against the signing keys at `metadata_url`, and gets its own at `login_url`."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        app_id=APP_ID,
        app_password="the-bots-secret",
        to_channel_from_bot_login_url=login_url,
        app_type="SingleTenant",
        app_tenant_id=TENANT,
        openid_metadata_url=metadata_url,
        token_issuer=ISSUER,
        allowed_tenant_ids=TENANT,
    )


@pytest.fixture
async def secured_bot(
    database_url: str, clock: FakeClock, connector: FakeConnector, engine: Database, key_server: KeyServer
) -> AsyncIterator[BotClient]:
    await seed_demo(engine, clock.now())
    settings = _secured(database_url, key_server.metadata_url, key_server.login_url)
    async for client in start_bot(settings, clock, connector):
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_token_is_accepted(secured_bot: BotClient, key_server: KeyServer) -> None:
    activity = secured_bot.activities.invoke(verbs.SESSIONS)
    status, body = await secured_bot.post(activity, _bearer(key_server.token(secured_bot.activities.service_url)))
    assert status == 200
    assert "Kommande lärträffar" in all_text(body["value"])


async def test_a_reply_carries_the_bots_own_token_from_entra(
    secured_bot: BotClient, key_server: KeyServer, connector: FakeConnector
) -> None:
    activity = secured_bot.activities.message("träffar")
    status, _ = await secured_bot.post(activity, _bearer(key_server.token(secured_bot.activities.service_url)))
    assert status == 200
    assert connector.received, "the list of sessions was sent"
    assert connector.authorizations == [f"Bearer {BOT_TOKEN}"] * len(connector.received)


@pytest.mark.parametrize("problem", ["missing", "forged", "expired", "wrong audience", "wrong service url", "garbage"])
async def test_bad_tokens_are_401_and_change_nothing(
    secured_bot: BotClient, key_server: KeyServer, engine: Database, problem: str
) -> None:
    service_url = secured_bot.activities.service_url
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = {
        "missing": {},
        "forged": _bearer(key_server.token(service_url, key=other_key)),
        "expired": _bearer(key_server.token(service_url, expires_in=-3600)),
        "wrong audience": _bearer(key_server.token(service_url, audience="someone-else")),
        "wrong service url": _bearer(key_server.token("https://evil.example/")),
        "garbage": {"Authorization": "Bearer not.a.jwt"},
    }[problem]
    status, _ = await secured_bot.post(secured_bot.activities.message("träffar"), headers)
    assert status == 401
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(tables.people))).scalar_one() == 0


async def test_other_tenant_is_403_and_nothing_stored(
    secured_bot: BotClient, key_server: KeyServer, engine: Database
) -> None:
    activity = secured_bot.activities.invoke(verbs.SESSIONS)
    activity["channelData"]["tenant"]["id"] = "99999999-0000-0000-0000-000000000000"
    status, _ = await secured_bot.post(activity, _bearer(key_server.token(secured_bot.activities.service_url)))
    assert status == 403
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(tables.people))).scalar_one() == 0


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"{not json", 400),
        (b"[]", 400),
        (b'{"type": "message"}', 400),
        (json.dumps({"type": "message", "serviceUrl": "http://127.0.0.1:1", "conversation": {}}).encode(), 400),
        (b"\xff\xfe", 400),
    ],
)
async def test_malformed_requests_are_400(bot: BotClient, payload: bytes, status: int) -> None:
    async with bot.http.post(bot.url, data=payload, headers={"Content-Type": "application/json"}) as response:
        assert response.status == status


async def test_oversized_body_is_refused(bot: BotClient) -> None:
    activity = bot.activities.message("x" * 300_000)
    status, _ = await bot.post(activity)
    assert status == 413


async def test_tampered_card_data_gets_a_friendly_answer(bot: BotClient, engine: Database) -> None:
    for data in ({"session": "drop table"}, {"session": -1}, {}, {"session": 10**12}):
        card = await bot.click(verbs.REGISTER, data)
        assert "Något i förfrågan stämde inte, så inget ändrades" in all_text(card)
    card = await bot.click(verbs.REGISTER, {"session": 999999})
    assert "inte öppen för anmälan" in all_text(card)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(tables.registrations))).scalar_one() == 0


async def test_unknown_verb_gets_help(bot: BotClient) -> None:
    card = await bot.click("no.such.verb")
    assert "Det här kan jag" in all_text(card)


async def test_health_and_readiness(bot: BotClient) -> None:
    async with bot.http.get(bot.server.make_url("/healthz")) as response:
        assert response.status == 200
    async with bot.http.get(bot.server.make_url("/readyz")) as response:
        assert response.status == 200
        assert (await response.json())["database"] == "ok"


async def test_readiness_says_when_messages_wait_past_ten_minutes_without_failing(
    bot: BotClient, engine: Database, clock: FakeClock
) -> None:
    async def jobs() -> dict[str, Any]:
        async with bot.http.get(bot.server.make_url("/readyz")) as response:
            assert response.status == 200, "behind is reported, not a reason to leave the rotation"
            return dict((await response.json())["jobs"])

    assert (await jobs())["delivery"] == {"due": 0, "oldest_seconds": 0, "behind": False}
    session_id = (await session_ids(engine))[1]
    await bot.click(verbs.REGISTER, {"session": session_id, verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "X"})
    clock.current += timedelta(minutes=11)  # no worker runs in these tests: the confirmation waits
    delivery = (await jobs())["delivery"]
    assert delivery["due"] == 1
    assert delivery["oldest_seconds"] >= 660
    assert delivery["behind"] is True


@pytest.mark.parametrize("path", ["/privacy", "/terms"])
async def test_privacy_and_terms_pages_for_the_app_manifest(bot: BotClient, path: str) -> None:
    async with bot.http.get(bot.server.make_url(path)) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "Lärträff" in await response.text()


async def test_readiness_fails_without_database(clock: FakeClock, connector: FakeConnector) -> None:
    settings = Settings(_env_file=None, database_url="postgresql://nobody@127.0.0.1:1/none")
    async for client in start_bot(settings, clock, connector):
        async with client.http.get(client.server.make_url("/readyz")) as response:
            assert response.status == 503


async def test_unexpected_error_apologises_with_a_correlation_id(
    bot: BotClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(participants, "overview", broken)
    caplog.handler.addFilter(TurnFilter())  # what the service's own handler does
    with caplog.at_level(logging.ERROR):
        card = await bot.click(verbs.SESSIONS)
        message_card = await bot.say("träffar")
    text = all_text(card)
    assert "Tyvärr gick något fel hos oss. Inget ändrades." in text
    assert "database on fire" not in text
    assert "Traceback" not in all_text(message_card)
    record = next(r for r in caplog.records if r.getMessage().startswith("unexpected error while handling a turn"))
    correlation_id = record.__dict__["correlation_id"]  # set by the handler's `extra`
    assert correlation_id in text
    assert correlation_id in record.getMessage()
    # The line says which turn it was, for LOG_FORMAT=json: the route, the activity, the tenant.
    assert (record.__dict__["route"], record.__dict__["tenant"]) == (verbs.SESSIONS, TENANT)
    assert record.__dict__["activity_id"]


class _FailingKeys(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(500)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("outage", ["refused", "answers 500"])
async def test_signing_keys_that_cannot_be_fetched_give_503_and_an_error_not_401(
    outage: str,
    database_url: str,
    clock: FakeClock,
    connector: FakeConnector,
    engine: Database,
    key_server: KeyServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An outage of the channel's key endpoint is not a forged token: Teams retries a 503."""
    await seed_demo(engine, clock.now())
    failing = ThreadingHTTPServer(("127.0.0.1", 0), _FailingKeys)
    port = failing.server_address[1]
    if outage == "refused":
        failing.server_close()  # nothing listens on the port any more
    else:
        threading.Thread(target=failing.serve_forever, daemon=True).start()
    settings = _secured(database_url, f"http://127.0.0.1:{port}/{uuid.uuid4().hex}/openid")  # fresh: no cache
    try:
        async for bot in start_bot(settings, clock, connector):
            activity = bot.activities.message("hej")
            with caplog.at_level(logging.INFO):
                status, _ = await bot.post(activity, _bearer(key_server.token(bot.activities.service_url)))
            assert status == 503
            assert "signing keys could not be fetched" in caplog.text
            async with engine.connect() as conn:
                stored = (await conn.execute(select(func.count()).select_from(tables.people))).scalar_one()
            assert stored == 0, "nothing stored"
    finally:
        if outage != "refused":
            failing.shutdown()
            failing.server_close()
