"""The aiohttp application: routes, and the objects that live as long as it (engine, connector, router)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import aiohttp
from aiohttp import web
from sqlalchemy import text

from bot import telemetry
from bot.config import Settings
from bot.domain.errors import ExportExpired
from bot.domain.model import Language, SessionStatus
from bot.i18n import Catalogs
from bot.ics import calendar_file
from bot.jobs.delivery import DeliverySettings, DeliveryWorker
from bot.jobs.meetings import MeetingReconciler, ReconcilerSettings
from bot.jobs.scheduler import Scheduler, ScheduleSettings
from bot.router import Router
from bot.services import privacy
from bot.services.organisers import OrganiserPolicy, export_data
from bot.services.ports import Clock
from bot.spreadsheet import personal_workbook, workbook
from bot.storage.engine import Database, create_engine
from bot.storage.health import backlog
from bot.storage.repositories import SeriesCache
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.teams.auth import CHANNEL_ISSUER, CHANNEL_METADATA_URL, ChannelAuthenticator, SigningKeys
from bot.teams.connector import BotConnector
from bot.teams.handler import MessagesEndpoint
from cards.conversation import apology_card

if TYPE_CHECKING:
    from bot.graph.client import GraphCalendar

log = logging.getLogger(__name__)

PAGES = Path(__file__).with_name("pages")
CALENDAR_LINK_AFTER = timedelta(days=7)  # how long after a session its calendar link still answers
SHUTDOWN_GRACE = 5.0  # seconds background jobs get to finish what they are doing
ENGINE = web.AppKey("engine", Database)
ENDPOINT = web.AppKey("endpoint", MessagesEndpoint)
WORKER = web.AppKey("worker", DeliveryWorker)
ROUTER = web.AppKey("router", Router)
CLOCK = web.AppKey("clock", Clock)


def create_app(
    settings: Settings,
    clock: Clock,
    catalogs: Catalogs | None = None,
    reconciler_settings: ReconcilerSettings | None = None,
) -> web.Application:
    app = web.Application(client_max_size=settings.max_request_bytes)
    app[CLOCK] = clock
    catalogs = catalogs or Catalogs.load()

    policy = OrganiserPolicy(
        settings.organiser_ids, settings.organiser_channel_id or None, settings.graph_enabled, settings.member_tenants
    )
    public_base_url = settings.public_base_url or f"http://{settings.host}:{settings.port}"

    async def resources(app: web.Application) -> AsyncIterator[None]:
        traced = telemetry.start_from_settings(
            settings.otel_exporter_otlp_endpoint, settings.applicationinsights_connection_string, settings.app_version
        )
        # First: a wrong Graph setting stops the start-up before anything else is opened.
        calendar = _calendar(settings) if settings.graph_enabled else None
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        app[ENGINE] = engine
        uow_factory = SqlUnitOfWorkFactory(engine)
        http = aiohttp.ClientSession()
        connector = BotConnector(settings, http)  # one limiter for everything this process asks of Teams
        delivery = DeliverySettings(lease=timedelta(seconds=settings.outbox_lease_seconds))
        # With Graph the Teams meeting's invitation puts the session in people's calendars; without, a file.
        calendar_base = "" if settings.graph_enabled else public_base_url
        worker = DeliveryWorker(
            uow_factory, connector, clock, catalogs, settings.default_language, delivery, calendar_base=calendar_base
        )
        app[WORKER] = worker
        schedule = ScheduleSettings(
            reminders=tuple(timedelta(days=d) for d in settings.reminder_days),
            digest_every=timedelta(minutes=settings.digest_minutes),
            retention_months=settings.retention_months,
        )
        scheduler = Scheduler(uow_factory, clock, schedule)
        sync = reconciler_settings or ReconcilerSettings(
            poll_every=timedelta(minutes=settings.graph_poll_minutes),
            lease=timedelta(seconds=settings.graph_lease_seconds),
            lobby=settings.meeting_lobby_bypass,
        )
        reconciler = MeetingReconciler(uow_factory, calendar, clock, catalogs, sync) if calendar else None

        def after_commit() -> None:
            worker.wake()
            if reconciler is not None:
                reconciler.wake()

        # Turns read the series from a cache shared by the process; background jobs read them fresh.
        turns = SqlUnitOfWorkFactory(engine, SeriesCache())
        router = Router(turns, clock, catalogs, settings.default_language, policy, public_base_url, after_commit)
        app[ROUTER] = router
        app[ENDPOINT] = MessagesEndpoint(
            _authenticator(settings, http), connector, router, apology_card, settings.admitted_tenant_ids
        )
        app[DOWNLOADS] = Downloads(
            uow_factory, clock, catalogs, settings.default_language, urlparse(public_base_url).hostname or "", policy
        )
        stop = asyncio.Event()
        jobs = (
            [asyncio.create_task(worker.run(stop)), asyncio.create_task(scheduler.run(stop))]
            if settings.background_jobs
            else []
        )
        if calendar is not None and reconciler is not None and settings.background_jobs:
            jobs.append(asyncio.create_task(_reconcile(calendar, reconciler, stop)))
        yield
        stop.set()
        try:
            await asyncio.wait_for(router.settle(), SHUTDOWN_GRACE)
        except TimeoutError:
            log.warning("look-ups after turns were cut off at shutdown")
        # A job in the middle of a slow request is cut off: its work is in the database and resumes.
        if jobs:
            _, late = await asyncio.wait(jobs, timeout=SHUTDOWN_GRACE)
            for job in late:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
        if calendar is not None:
            await calendar.close()
        await http.close()
        await engine.dispose()
        if traced:
            await asyncio.to_thread(telemetry.stop)  # flushes what is buffered: blocking network

    app.cleanup_ctx.append(resources)
    app.on_response_prepare.append(_security_headers)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    # The Teams app manifest links to these; they say what the bot stores and why.
    app.router.add_get("/privacy", _page("privacy.html"))
    app.router.add_get("/terms", _page("terms.html"))
    app.router.add_get("/exports/{token}", _export)
    app.router.add_get("/my-data/{token:[A-Za-z0-9_-]+}.{kind:json|xlsx}", _personal_export)
    app.router.add_get("/calendar/{token:[A-Za-z0-9_-]+}.ics", _calendar_file)
    return app


async def _reconcile(calendar: GraphCalendar, reconciler: MeetingReconciler, stop: asyncio.Event) -> None:
    await asyncio.to_thread(calendar.warm_up)  # off the event loop, before the first sync
    await reconciler.run(stop)


def _authenticator(settings: Settings, http: aiohttp.ClientSession) -> ChannelAuthenticator | None:
    """None without an app id: authentication off, for local use."""
    if not settings.auth_enabled:
        return None
    keys = SigningKeys(http, settings.openid_metadata_url or CHANNEL_METADATA_URL)
    return ChannelAuthenticator(keys, settings.app_id, settings.token_issuer or CHANNEL_ISSUER)


def _calendar(settings: Settings) -> GraphCalendar:
    # Imported here: msgraph-sdk costs ~50 MiB and most of a second, paid only where Graph is used.
    from bot.graph.client import GraphCalendar
    from bot.graph.credentials import create_credential

    return GraphCalendar(create_credential(settings), settings.graph_mailbox, settings.graph_base_url)


class Downloads:
    """Serves the organisers' exports and a person's own data: the token in the link is the only key, and it
    expires."""

    def __init__(
        self,
        uow_factory: SqlUnitOfWorkFactory,
        clock: Clock,
        catalogs: Catalogs,
        default_language: Language,
        host: str = "",
        policy: OrganiserPolicy | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._default_language = default_language
        self._host = host
        self._policy = policy or OrganiserPolicy()

    async def calendar(self, token: str) -> web.Response:
        """A session's .ics: one event for everyone who comes (no names), while the session is coming and for a
        week after it; a cancelled session's file says so, and updates the imported event."""
        async with self._uow_factory() as uow:
            now = self._clock.now()
            session = await uow.sessions.by_calendar_token(token[:100]) if token else None
            series = await uow.series.get(session.series_id) if session else None
        if (
            session is None
            or series is None
            or session.status is SessionStatus.DRAFT
            or now > session.ends_at + CALENDAR_LINK_AFTER
        ):
            return web.Response(status=410, text=_EXPIRED_CALENDAR, content_type="text/html", charset="utf-8")
        t = self._catalogs.translator(series.language)
        return web.Response(
            body=calendar_file(t, series, session, self._host, now),
            content_type="text/calendar",
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="lartraff-{session.number}.ics"',
                "Cache-Control": "no-store",
            },
        )

    async def get(self, token: str) -> web.Response:
        try:
            async with self._uow_factory() as uow:
                now = self._clock.now()
                data = await export_data(token[:100], uow, now)
        except ExportExpired:
            return web.Response(status=410, text=_EXPIRED, content_type="text/html", charset="utf-8")
        t = self._catalogs.translator(data.series.language)
        name = data.file_name(t.local(now).date())
        return web.Response(
            body=workbook(data, t, self._policy.vouches_for),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    async def personal(self, token: str, kind: str) -> web.Response:
        try:
            async with self._uow_factory() as uow:
                now = self._clock.now()
                data = await privacy.download(token[:100], uow, now)
        except ExportExpired:
            return web.Response(status=410, text=_EXPIRED_PERSONAL, content_type="text/html", charset="utf-8")
        name = f"lartraff-mina-uppgifter-{now.date().isoformat()}.{kind}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
        if kind == "json":
            body = json.dumps(data.as_json(now), ensure_ascii=False, indent=2).encode()
            return web.Response(body=body, content_type="application/json", charset="utf-8", headers=headers)
        language = Language(data.language) if data.language else Language.from_locale(data.teams_locale)
        t = self._catalogs.translator(language or self._default_language)
        return web.Response(
            body=personal_workbook(data, t, now),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=headers,
        )


DOWNLOADS = web.AppKey("downloads", Downloads)

_EXPIRED = (
    "<!doctype html><meta charset=utf-8><title>Lärträff</title>"
    "<p>Länken har gått ut. Be om en ny export i Teams.</p>"
    "<p lang=en>The link has expired. Ask for a new export in Teams.</p>"
)
_EXPIRED_CALENDAR = (
    "<!doctype html><meta charset=utf-8><title>Lärträff</title>"
    "<p>Länken gäller inte längre: lärträffen har varit, eller finns inte.</p>"
    "<p lang=en>The link no longer works: the session is over, or does not exist.</p>"
)
_EXPIRED_PERSONAL = (
    "<!doctype html><meta charset=utf-8><title>Lärträff</title>"
    "<p>Länken har gått ut. Skriv ”mina uppgifter” till Lärträff i Teams för en ny.</p>"
    "<p lang=en>The link has expired. Write “my data” to Lärträff in Teams for a new one.</p>"
)


async def _export(request: web.Request) -> web.Response:
    return await request.app[DOWNLOADS].get(request.match_info["token"])


async def _calendar_file(request: web.Request) -> web.Response:
    return await request.app[DOWNLOADS].calendar(request.match_info["token"])


async def _personal_export(request: web.Request) -> web.Response:
    return await request.app[DOWNLOADS].personal(request.match_info["token"], request.match_info["kind"])


# Our pages are static HTML with inline styles, the exports a download: nothing else may load or run.
_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"


async def _security_headers(_: web.Request, response: web.StreamResponse) -> None:
    """On every answer: no sniffing of content types, no framing or scripts on our pages, no referrer, and no
    software versions in `Server` (aiohttp would name Python's and its own)."""
    headers = response.headers
    headers["Server"] = "lartraff"
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.content_type == "text/html":
        headers["Content-Security-Policy"] = _PAGE_POLICY


def _page(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    body = (PAGES / name).read_bytes()

    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    return serve


async def _messages(request: web.Request) -> web.Response:
    return await request.app[ENDPOINT].post(request)


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    """503 only when the database is gone (the instance can do nothing); jobs that are behind are reported
    without failing: taking the instance out of rotation would not bring them up to date."""
    try:
        async with request.app[ENGINE].connect() as conn:
            await conn.execute(text("SELECT 1"))
            jobs = await backlog(conn, request.app[CLOCK].now())
        telemetry.record_backlog(jobs)  # App Service's health check asks every minute: the gauges' figures
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        log.warning("database not reachable: %s", type(error).__name__)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok", "jobs": jobs.as_json()})
