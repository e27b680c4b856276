"""Lärträff: the composition root and command line.

python app.py serve              migrate, then serve the bot (default)
python app.py migrate            apply database migrations
python app.py import FILE        create or update a series from a data file
python app.py demo               the bot on SQLite with demo data, plus Microsoft's Agents Playground
python app.py package            the Teams app package (zip) for this bot
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent
PLAYGROUND_DIR = ROOT / "playground"
PLAYGROUND_CLI = ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
# The Playground's signed-in user and team channel (playground/.m365agentsplayground.yml): in the demo,
# that user organises the series from that channel unless ORGANISER_IDS / ORGANISER_CHANNEL_ID say otherwise.
PLAYGROUND_ORGANISER = "00000000-0000-0000-0000-0000000000020"
PLAYGROUND_CHANNEL = "team-id"


def _configure_logging(level: str, form: str = "text") -> None:
    from bot.logs import DiscreetFormatter, JsonFormatter, TurnFilter

    handler = logging.StreamHandler(sys.stderr)
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(DiscreetFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(TurnFilter())
    logging.basicConfig(level=level, handlers=[handler])
    # Keep request logs free of personal data: the access log shows method, path and status only.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Driver debug logs print query parameters (names, e-mails, reasons) even at LOG_LEVEL=DEBUG.
    for noisy in ("asyncpg", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger(noisy).getEffectiveLevel()))


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.config import Settings
    from bot.storage.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    print("database is at the newest schema")
    return 0


async def _import(path: Path, database_url: str, *, shift_to_future: bool, only_if_empty: bool) -> str:
    from bot import datafile
    from bot.clock import SystemClock
    from bot.services.series_admin import import_series, is_empty
    from bot.storage.engine import create_engine
    from bot.storage.uow import SqlUnitOfWork

    loaded = datafile.load_file(path)
    series, sessions = loaded.series, loaded.sessions
    now = SystemClock().now()
    if shift_to_future:
        sessions = datafile.moved_to_future(sessions, now)
    engine = create_engine(database_url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            if only_if_empty and not await is_empty(uow):
                return "database already holds a series; demo data not imported"
            result = await import_series(series, sessions, uow, now, loaded.organisers)
            await uow.commit()
    finally:
        await engine.dispose()
    verb = "created" if result.series_created else "updated"
    return (
        f"series '{result.series.title}' {verb}: {result.sessions_created} sessions created, "
        f"{result.sessions_updated} updated"
    )


def cmd_import(args: argparse.Namespace) -> int:
    from bot.config import Settings
    from bot.datafile import DataFileError
    from bot.storage.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    try:
        print(
            asyncio.run(
                _import(
                    Path(args.file), settings.database_url, shift_to_future=args.shift_to_future, only_if_empty=False
                )
            )
        )
    except DataFileError as error:
        print(f"cannot import: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_package(args: argparse.Namespace) -> int:
    from bot.app_package import PackageError, build
    from bot.config import Settings

    try:
        path = build(Settings(), Path(args.output))
    except PackageError as error:
        print(f"cannot build the app package: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app) or the Teams admin center")
    return 0


def _build_app(demo: bool) -> tuple[web.Application, str, int]:
    from bot.clock import SystemClock
    from bot.config import Settings
    from bot.storage.migrate import upgrade
    from bot.web import create_app

    started = time.perf_counter()
    settings = Settings()
    if demo:
        settings = settings.model_copy(
            update={
                "organiser_ids": settings.organiser_ids or frozenset({PLAYGROUND_ORGANISER}),
                "organiser_channel_id": settings.organiser_channel_id or PLAYGROUND_CHANNEL,
            }
        )
    _configure_logging(settings.log_level, settings.log_format)
    if settings.graph_enabled:
        from bot.graph.credentials import missing_setting

        problem = missing_setting(settings)
        if problem:
            raise SystemExit(f"error: GRAPH_MAILBOX is set, but {problem}")
    upgrade(settings.database_url)
    if demo:
        message = asyncio.run(
            _import(ROOT / settings.demo_data, settings.database_url, shift_to_future=True, only_if_empty=True)
        )
        logging.getLogger("lartraff").info(message)
    app = create_app(settings, SystemClock())
    if demo:
        app.cleanup_ctx.append(_playground(settings.port, settings.playground_port))

    async def _report(_: web.Application) -> None:
        _settle_garbage_collector()
        logging.getLogger("lartraff").info(
            "ready on http://%s:%s in %.2f s", settings.host, settings.port, time.perf_counter() - started
        )

    app.on_startup.append(_report)
    return app, settings.host, settings.port


def _settle_garbage_collector() -> None:
    """What start-up built lives as long as the process: frozen, the collector stops scanning it again
    and again (a full collection of it took tens of milliseconds, every turn in flight waiting). A turn
    makes thousands of short-lived objects; collecting the youngest after 700 of them was most of the
    collector's time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def _playground(bot_port: int, port: int) -> Callable[[web.Application], AsyncIterator[None]]:
    async def run(_: web.Application) -> AsyncIterator[None]:
        node = shutil.which("node")
        if node is None or not PLAYGROUND_CLI.exists():
            raise SystemExit("Agents Playground not installed: run `npm ci` (needs Node.js)")
        env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none"}
        process = await asyncio.create_subprocess_exec(
            node, str(PLAYGROUND_CLI),
            "-e", f"http://127.0.0.1:{bot_port}/api/messages",
            "-c", "msteams", "-p", str(port), "--disable-telemetry",
            cwd=PLAYGROUND_DIR, env=env, start_new_session=True,
        )  # fmt: skip
        logging.getLogger("lartraff").info("Agents Playground: open http://127.0.0.1:%s", port)
        # After the migrations' log lines, where a newcomer would miss the address.
        rule = "=" * 72
        print(f"\n{rule}\n  Lärträff is running. Open http://127.0.0.1:{port} in a browser and write “hej”.\n"
              f"  Ctrl+C stops the bot and the Playground.\n{rule}\n", file=sys.stderr, flush=True)  # fmt: skip
        try:
            yield
        finally:
            if process.returncode is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    os.killpg(process.pid, signal.SIGKILL)

    return run


def cmd_serve(args: argparse.Namespace) -> int:
    app, host, port = _build_app(demo=args.command == "demo")
    web.run_app(app, host=host, port=port, print=None, access_log=None, loop=_event_loop())
    return 0


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it exists (Linux, macOS): its event loop and sockets cost a fraction of asyncio's."""
    try:
        import uvloop
    except ImportError:  # Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python app.py", description="Lärträff, a Teams bot for a series of learning sessions."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="apply migrations, then serve the bot on HOST:PORT (the default)")
    commands.add_parser("migrate", help="apply database migrations to DATABASE_URL")
    importer = commands.add_parser("import", help="create or update a series and its sessions from a TOML data file")
    importer.add_argument("file", help="the data file, e.g. data/larprojekt-innovation.toml")
    importer.add_argument(
        "--shift-to-future",
        action="store_true",
        help="move the sessions forward by whole weeks so the first is at least two weeks away",
    )
    commands.add_parser(
        "demo", help="the bot with demo data (when the database is empty) plus the Agents Playground on :56150"
    )
    package = commands.add_parser(
        "package", help="write the Teams app package zip (needs MicrosoftAppId, PUBLIC_BASE_URL)"
    )
    package.add_argument("--output", default="build/lartraff-teams-app.zip", help="where to write the zip")
    args = parser.parse_args(argv)
    handlers = {
        "serve": cmd_serve,
        "demo": cmd_serve,
        "migrate": cmd_migrate,
        "import": cmd_import,
        "package": cmd_package,
        None: cmd_serve,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
