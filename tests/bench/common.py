"""Shared by the benchmarks: databases with the demo series, bot processes, a fake connector, load."""

from __future__ import annotations

import asyncio
import copy
import ctypes
import ctypes.util
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import jwt
import orjson
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "activities"
sys.path.insert(0, str(ROOT))

from bot import datafile  # noqa: E402
from bot.services.series_admin import import_series  # noqa: E402
from bot.storage import tables  # noqa: E402
from bot.storage.engine import create_engine  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.uow import SqlUnitOfWork  # noqa: E402

PG_ADMIN = os.environ.get("LARTRAFF_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/test")
TICKS = os.sysconf("SC_CLK_TCK")
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def demo_database(url: str, capacity: int | None = None) -> int:
    """Migrates, loads the demo series (moved to the future); returns session 1's id."""
    await asyncio.to_thread(upgrade, url)
    series, sessions = datafile.load(ROOT / "data" / "larprojekt-innovation.toml")
    now = datetime.now(UTC)
    sessions = datafile.moved_to_future(sessions, now)
    sessions[0] = replace(sessions[0], capacity=capacity)
    engine = create_engine(url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            await import_series(series, sessions, uow, now)
            await uow.commit()
        async with SqlUnitOfWork(engine) as uow:
            first = await uow.sessions.by_number(1, 1)
            assert first is not None
            return first.id
    finally:
        await engine.dispose()


async def scale_database(
    url: str, *, series: int = 50, sessions: int = 20, registrations: int = 500, outbox: int = 200_000
) -> None:
    """Years of use beside the demo series: `series` more series of `sessions` sessions each, all ended, with
    `registrations` registrations each from a pool of people, and `outbox` messages sent long ago."""
    now = datetime.now(UTC)
    people_count = registrations * 50
    engine = create_engine(url)
    t = tables
    try:
        async with engine.begin() as conn:
            first_series = int((await conn.execute(select(func.coalesce(func.max(t.series.c.id), 0)))).scalar_one())
            await conn.execute(t.series.insert(), [
                {"id": first_series + n, "slug": f"old-{n}", "title": f"Serie {n}", "organiser": "Norrbottens Kommuner",
                 "language": "sv", "contacts": [], "organisations": [], "created_at": now}
                for n in range(1, series + 1)
            ])  # fmt: skip
            first_person = int((await conn.execute(select(func.coalesce(func.max(t.people.c.id), 0)))).scalar_one())
            for chunk in range(0, people_count, 5000):
                await conn.execute(t.people.insert(), [
                    {"id": first_person + n, "tenant_id": "old-tenant", "aad_object_id": f"old-{n}", "name": f"P {n}",
                     "organisation": "Luleå kommun", "role": "Lärare", "created_at": now, "updated_at": now}
                    for n in range(chunk + 1, min(chunk + 5000, people_count) + 1)
                ])  # fmt: skip
            first_session = int((await conn.execute(select(func.coalesce(func.max(t.sessions.c.id), 0)))).scalar_one())
            rows = []
            for k in range(series * sessions):
                starts = now - timedelta(days=30 + 3 * k)  # all ended: from a month to years ago
                rows.append({
                    "id": first_session + k + 1, "series_id": first_series + 1 + k // sessions,
                    "number": k % sessions + 1, "title": f"Träff {k}", "starts_at": starts,
                    "ends_at": starts + timedelta(hours=2), "registration_deadline": starts - timedelta(days=7),
                    "status": "published", "programme": [], "updated_at": now,
                })  # fmt: skip
            await conn.execute(t.sessions.insert(), rows)
            batch: list[dict[str, Any]] = []
            for k in range(series * sessions):
                for j in range(registrations):
                    person = first_person + 1 + (k * registrations + j) % people_count
                    batch.append({"session_id": first_session + k + 1, "person_id": person, "status": "registered",
                                  "created_at": now, "status_changed_at": now})  # fmt: skip
                if len(batch) >= 10_000:
                    await conn.execute(t.registrations.insert(), batch)
                    batch = []
            if batch:
                await conn.execute(t.registrations.insert(), batch)
            long_ago = now - timedelta(days=30)
            for chunk in range(0, outbox, 10_000):
                sent = [
                    {"idempotency_key": f"old:{n}", "kind": "reminder", "payload": {"days": 1},
                     "person_id": first_person + 1 + n % people_count,
                     "session_id": first_session + 1 + n % (series * sessions),
                     "status": "sent", "attempts": 1, "next_attempt_at": long_ago, "last_error": "",
                     "created_at": long_ago, "sent_at": long_ago}
                    for n in range(chunk, min(chunk + 10_000, outbox))
                ]  # fmt: skip
                await conn.execute(t.outbox.insert(), sent)
            if conn.dialect.name == "postgresql":
                for table in ("series", "sessions", "people", "registrations", "outbox"):
                    await conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    ))  # fmt: skip
        if "postgresql" in url:
            async with engine.connect() as conn:  # planner statistics, as autovacuum would gather them
                await conn.execute(text("COMMIT"))
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_database() -> Any:
    name = f"lartraff_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass
class BotProcess:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        """The process's CPU clock, to the nanosecond: /proc's utime and stime count in ticks of 10 ms,
        and the floor spends only about a dozen ticks on a round of 1,000 on a fast machine."""
        clock = ctypes.c_int()
        if _LIBC.clock_getcpuclockid(self.process.pid, ctypes.byref(clock)) == 0:
            return time.clock_gettime(clock.value)
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_bot(name: str, args: Sequence[str], env: dict[str, str], core: int | None, log: Path) -> BotProcess:
    port = free_port()
    pin = ["taskset", "-c", str(core)] if core is not None else []
    full_env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING", **env}
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [*pin, sys.executable, *[a.format(port=port) for a in args]],
            cwd=ROOT,
            env=full_env,
            stdout=sink,
            stderr=sink,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return BotProcess(name, process, f"http://127.0.0.1:{port}/api/messages")
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(name)


BENCH_APP_ID = "00000000-bench-0000-0000-000000000000"


class Connector:
    """The Bot Connector's side: accepts replies and proactive messages, counts them. It also plays the rest
    of the Bot Framework, so that our bot runs as in production, checking every request's token: the
    channel's OpenID metadata and signing key, and Entra's token endpoint for the bot's own token."""

    def __init__(self) -> None:
        self.replies = 0
        self.runner: web.AppRunner | None = None
        self.url = ""
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def authenticated_env(self) -> dict[str, str]:
        """The settings of a bot that checks tokens against this connector's key and asks it for its own."""
        return {
            "MicrosoftAppId": BENCH_APP_ID,
            "MicrosoftAppPassword": "bench",
            "MicrosoftAppType": "MultiTenant",
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": f"{self.url}/openid",
            "TO_CHANNEL_FROM_BOT_LOGIN_URL": self.url,
        }

    def authorization(self) -> str:
        """The channel's token for requests to the bot, good for an hour, as Teams reuses one."""
        now = int(time.time())
        claims = {"iss": "https://api.botframework.com", "aud": BENCH_APP_ID, "serviceurl": self.url,
                  "nbf": now - 10, "exp": now + 3600}  # fmt: skip
        return "Bearer " + jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": "bench"})

    async def _metadata(self, _: web.Request) -> web.Response:
        return web.json_response({"jwks_uri": f"{self.url}/keys", "id_token_signing_alg_values_supported": ["RS256"]})

    async def _keys(self, _: web.Request) -> web.Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid="bench", endorsements=["msteams"])
        return web.json_response({"keys": [jwk]})

    async def _token(self, _: web.Request) -> web.Response:
        return web.json_response({"access_token": "bench-token", "expires_in": 3599})

    async def _reply(self, request: web.Request) -> web.Response:
        await request.read()
        self.replies += 1
        return web.json_response({"id": "r"}, status=201)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{c}/activities", self._reply)
        app.router.add_post("/v3/conversations/{c}/activities/{a}", self._reply)
        app.router.add_get("/v3/conversations/{c}/members/{m}", self._member)
        app.router.add_get("/openid", self._metadata)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"

    async def _member(self, request: web.Request) -> web.Response:
        member = request.match_info["m"]
        return web.json_response({"id": member, "name": member, "email": f"{member}@example.com"})

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


TENANTS = 100  # people spread over as many tenants: Teams allows an app 50 requests a second per tenant


def _from(activity: dict[str, Any], user: str) -> None:
    """From `user` in their 1:1 chat, in a tenant of their own among TENANTS (by their name)."""
    tenant = f"00000000-0000-0000-0000-{uuid.uuid5(uuid.NAMESPACE_OID, user).int % TENANTS:012d}"
    activity["from"] = {"id": user, "name": user, "aadObjectId": user}
    activity["conversation"]["id"] = f"personal-{user}"
    activity["conversation"]["tenantId"] = tenant
    activity["channelData"]["tenant"] = {"id": tenant}


def message(service_url: str, text: str, user: str) -> dict[str, Any]:
    activity = copy.deepcopy(_fixture("personal-message"))
    activity.update(id=str(uuid.uuid4()), serviceUrl=service_url, text=text, locale="sv-SE")
    _from(activity, user)
    return activity


def register(service_url: str, session_id: int, user: str, *, profile: bool = True) -> dict[str, Any]:
    """A click on Register in the list of sessions: with the first registration's form (organisation and
    role), or (profile=False) the one click of someone whose profile is known. The answer is the list, brought
    up to date."""
    activity = copy.deepcopy(_fixture("personal-invoke-adaptiveCard-action"))
    data: dict[str, Any] = {"verb": "register", "session": session_id, "view": "sessions"}
    if profile:
        data.update(organisation="Luleå kommun", role="Strateg")
    activity.update(id=str(uuid.uuid4()), serviceUrl=service_url, locale="sv-SE")
    activity["value"] = {"action": {"type": "Action.Execute", "verb": "register", "data": data}}
    _from(activity, user)
    return activity


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float]
    errors: int
    bodies: list[Any]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def load(
    http: aiohttp.ClientSession,
    targets: Sequence[str],
    activities: Sequence[dict[str, Any]],
    in_flight: int,
    *,
    keep_bodies: bool = False,
    authorization: str | None = None,
) -> LoadResult:
    """Posts every activity, `in_flight` at a time, round-robin over the targets. The bodies are encoded
    before the clock starts and answers are parsed only when asked for: this process shares its core with
    the connector, and its own JSON work would count in every latency it measures."""
    latencies: list[float] = []
    bodies: list[Any] = [None] * len(activities)
    errors = 0
    encoded = [orjson.dumps(activity) for activity in activities]
    queue = iter(enumerate(encoded))
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization

    async def client() -> None:
        nonlocal errors
        for index, body in queue:
            started = time.perf_counter()
            try:
                async with http.post(targets[index % len(targets)], data=body, headers=headers) as response:
                    answer = await response.read()
                    if not 200 <= response.status < 300:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
                answer = b""
            latencies.append(time.perf_counter() - started)
            if keep_bodies and answer:
                bodies[index] = json.loads(answer)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(in_flight)))
    return LoadResult(time.perf_counter() - started, latencies, errors, bodies)
