"""The register storm: many distinct people click Register for one session with few seats, through two
bot processes sharing PostgreSQL.

    uv run python tests/bench/storm.py [--people 1000] [--seats 100] [--in-flight 64]

Passes when exactly `seats` are registered, the rest waitlisted in the order their registrations were
taken, with zero errors; prints the time and the p99 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.common import Connector, demo_database, load, postgres_database, register, start_bot


async def run(args: argparse.Namespace) -> int:
    connector = Connector()
    await connector.start()
    logs = Path(tempfile.mkdtemp())
    async with postgres_database() as url:
        session_id = await demo_database(url, capacity=args.seats)
        env = {"DATABASE_URL": url, "BACKGROUND_JOBS": "false", "MicrosoftAppId": ""}
        bots = [start_bot(f"bot{n}", ["app.py", "serve"], env, n % 2, logs / f"bot{n}.log") for n in range(2)]
        try:
            activities = [register(connector.url, session_id, f"storm-{i}") for i in range(args.people)]
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                result = await load(http, [b.url for b in bots], activities, args.in_flight, keep_bodies=True)
        finally:
            for bot in bots:
                bot.stop()
        db = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            rows = await db.fetch("SELECT status, count(*) FROM registrations GROUP BY status")
            statuses: dict[str, int] = {row[0]: row[1] for row in rows}
            queue = await db.fetch(
                "SELECT id FROM registrations WHERE status = 'waitlisted' ORDER BY waitlisted_at, id"
            )
        finally:
            await db.close()
    await connector.stop()
    in_order = [r["id"] for r in queue] == sorted(r["id"] for r in queue)
    answered = (
        sum(1 for b in result.bodies if b and "Du är anmäld" in str(b)),
        sum(1 for b in result.bodies if b and "Du står på väntelistan" in str(b)),
    )
    print(f"people               {args.people} through 2 processes, {args.in_flight} in flight")
    print(f"time                 {result.seconds:.1f} s ({args.people / result.seconds:.0f} registrations/s)")
    print(f"p50 / p99            {result.p50_ms:.0f} ms / {result.p99_ms:.0f} ms")
    print(f"registered           {statuses.get('registered', 0)} (seats {args.seats})")
    print(f"waitlisted           {statuses.get('waitlisted', 0)}, in arrival order: {in_order}")
    print(f"answers              {answered[0]} registered, {answered[1]} waitlisted")
    print(f"errors               {result.errors}")
    ok = (
        statuses.get("registered") == args.seats
        and statuses.get("waitlisted") == args.people - args.seats
        and in_order
        and result.errors == 0
        and answered == (args.seats, args.people - args.seats)
    )
    print("result               " + ("OK: exactly at capacity" if ok else "FAILED"))
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description="Lärträff register storm")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--in-flight", type=int, default=64)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
