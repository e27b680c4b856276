"""Benchmark of the hot path, side by side in one run against the same fake connector on 127.0.0.1:

  (a) Lärträff: "träffar" (database read, card reply) and register (database write, card in the invoke
      response), on SQLite and on PostgreSQL;
  (b) a stock botbuilder echo bot written as in Microsoft's samples (CloudAdapter.process, no fixes);
  (c) a bare aiohttp handler that parses the activity and posts one reply (the floor).

Each bot is pinned to core 0, this load generator and the connector to core 1. Every figure is the
median of several interleaved rounds, so that the ratios hold on a noisy machine.

    uv run python tests/bench/hotpath.py [--activities 1000] [--rounds 3] [--in-flight 32] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.common import (
    BotProcess,
    Connector,
    demo_database,
    load,
    message,
    postgres_database,
    register,
    scale_database,
    start_bot,
)

BOT_CORE, LOAD_CORE = 0, 1


def _reading(service_url: str, label: str, people: int, round_: int, i: int) -> dict[str, Any]:
    """`träffar` from one of `people` people who have used the bot before (the warm-up made them)."""
    n = i % people if round_ < 0 else (round_ * 7919 + i * 104_729) % people  # spread over all of them
    return message(service_url, "träffar", f"reader-{label}-{n}")


def _registering(service_url: str, label: str, session_id: int, round_: int, i: int) -> dict[str, Any]:
    """A first registration: the form with organisation and role, and Teams asked for the e-mail."""
    return register(service_url, session_id, f"w-{label}-{round_}-{i}")


def _one_click(service_url: str, label: str, session_ids: tuple[int, int], round_: int, i: int) -> dict[str, Any]:
    """The warm-up registers each person for the first session with the form; measured is the one click of
    the same person, profile known, for the second."""
    first, second = session_ids
    if round_ < 0:
        round_, i = divmod(i, 1_000_000)
        return register(service_url, first, f"k-{label}-{round_}-{i}")
    return register(service_url, second, f"k-{label}-{round_}-{i}", profile=False)


@dataclass
class Case:
    name: str
    bot: BotProcess
    make: Callable[[int, int], dict[str, Any]]  # (round, i) -> activity
    cpu_per_1000: list[float] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    errors: int = 0
    warm_up: int = 100  # activities sent before measuring
    warm_up_ids: list[int] = field(default_factory=list)  # or these `i`s, with round -1
    authorization: str | None = None  # the channel's token, for a bot that checks it


async def run(args: argparse.Namespace) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {LOAD_CORE})
    connector = Connector()
    await connector.start()
    svc = connector.url
    tmp = tempfile.TemporaryDirectory()
    logs = Path(tmp.name)
    sqlite_url = f"sqlite:///{logs}/bench.db"
    sqlite_session = await demo_database(sqlite_url)
    if args.scale:
        await scale_database(sqlite_url)
    # Ours as in production: every request's token checked, replies sent with the bot's own token.
    # and Python run as the container runs it (PYTHONOPTIMIZE=2, infra/Dockerfile).
    ours = {"BACKGROUND_JOBS": "false", "PYTHONOPTIMIZE": "2", **connector.authenticated_env()}
    token = connector.authorization()
    bots: list[BotProcess] = []
    cases: list[Case] = []
    pg = postgres_database() if not args.no_postgres else None
    try:
        pg_url = await pg.__aenter__() if pg else None
        pg_session = await demo_database(pg_url) if pg_url else None
        if pg_url and args.scale:
            await scale_database(pg_url)

        def bot(name: str, argv: list[str], env: dict[str, str]) -> BotProcess:
            process = start_bot(name, argv, env, BOT_CORE if (os.cpu_count() or 1) > 1 else None, logs / f"{name}.log")
            bots.append(process)
            return process

        stock = bot("stock", ["tests/bench/echo_stock.py", "{port}"], {})
        bare = bot("bare", ["tests/bench/echo_bare.py", "{port}"], {})
        cases.append(Case("stock botbuilder echo", stock, lambda r, i: message(svc, "hello", f"s{r}-{i}")))
        cases.append(Case("bare aiohttp floor", bare, lambda r, i: message(svc, "hello", f"b{r}-{i}")))
        databases = [("SQLite", sqlite_url, sqlite_session)]
        if pg_url and pg_session:
            databases.append(("PostgreSQL", pg_url, pg_session))
        for label, url, session_id in databases:
            read_bot = bot(f"read-{label}", ["app.py", "serve"], {**ours, "DATABASE_URL": url})
            write_bot = bot(f"write-{label}", ["app.py", "serve"], {**ours, "DATABASE_URL": url})
            click_bot = bot(f"click-{label}", ["app.py", "serve"], {**ours, "DATABASE_URL": url})
            reading = partial(_reading, svc, label, args.people)
            registering = partial(_registering, svc, label, session_id)
            cases.append(
                Case(f"Lärträff träffar, {label}", read_bot, reading, warm_up=args.people, authorization=token)
            )
            cases.append(Case(f"Lärträff register, {label}", write_bot, registering, authorization=token))
            clicks = partial(_one_click, svc, label, (session_id, session_id + 1))
            warm = [r * 1_000_000 + i for r in range(args.rounds) for i in range(args.activities)]
            cases.append(Case(f"Lärträff one click, {label}", click_bot, clicks, warm_up_ids=warm, authorization=token))

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            for case in cases:  # warm up: imports, caches, connection pools, and the people the case needs
                ids = case.warm_up_ids or list(range(max(100, case.warm_up)))
                warm_up = [case.make(-1, i) for i in ids]
                await load(http, [case.bot.url], warm_up, args.in_flight, authorization=case.authorization)
            for round_ in range(args.rounds):
                for case in cases:
                    activities = [case.make(round_, i) for i in range(args.activities)]
                    before = case.bot.cpu_seconds()
                    result = await load(
                        http, [case.bot.url], activities, args.in_flight, authorization=case.authorization
                    )
                    cpu = case.bot.cpu_seconds() - before
                    case.cpu_per_1000.append(cpu * 1000 / args.activities)
                    case.rps.append(args.activities / result.seconds)
                    case.p50.append(result.p50_ms)
                    case.p99.append(result.p99_ms)
                    case.errors += result.errors
        report(cases, args)
    finally:
        for process in bots:
            process.stop()
        if pg:
            await pg.__aexit__(None, None, None)
        await connector.stop()
        tmp.cleanup()


def report(cases: list[Case], args: argparse.Namespace) -> None:
    med = statistics.median
    stock = med(cases[0].cpu_per_1000)
    floor = med(cases[1].cpu_per_1000)
    print(
        f"{args.activities} activities a round, {args.in_flight} in flight, median of {args.rounds} interleaved rounds"
    )
    print(f"bots pinned to core {BOT_CORE}, load generator and connector to core {LOAD_CORE}\n")
    header = (
        f"{'case':32} {'CPU s/1000':>10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'peak RSS':>9} "
        f"{'÷ stock':>8} {'÷ floor':>8} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for case in cases:
        cpu = med(case.cpu_per_1000)
        print(
            f"{case.name:32} {cpu:10.2f} {med(case.rps):8.0f} {med(case.p50):8.1f} {med(case.p99):8.1f} "
            f"{case.bot.peak_rss_mib():7.0f} MiB {cpu / stock:8.2f} {cpu / floor:8.2f} {case.errors:6}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Lärträff hot-path benchmark")
    parser.add_argument("--activities", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--people", type=int, default=5000, help="distinct people asking for the sessions")
    parser.add_argument(
        "--scale", action="store_true",
        help="beside the demo: 50 ended series x 20 sessions x 500 registrations, 200,000 sent messages",
    )  # fmt: skip
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
