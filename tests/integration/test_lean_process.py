"""What a serving process holds: the libraries a turn needs, not the ones it could do without. Each of these
cost megabytes of the process's memory when it was loaded (the budget of tests/bench/hotpath.py is 90 MiB
peak); a change that brings one back fails here, not months later in a measurement."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Libraries a serving bot must not load (without Graph, on the database it does not use, once migrated).
NEVER = (
    "botbuilder", "botframework", "msrest", "requests", "msal", "cryptography", "jwt",  # token checks are ours
    "msgraph", "azure", "kiota_abstractions",  # only when Graph is configured
    "alembic",  # only when the database is behind the newest migration
    "PIL", "openpyxl", "icalendar", "opentelemetry.sdk",  # loaded when first used
)  # fmt: skip
BY_DATABASE = {"sqlite": ("asyncpg", "sqlalchemy.dialects.postgresql"), "postgresql": ("sqlite3",)}

_PROBE = """
import json, sys
import app
app._build_app(demo=False)
print(json.dumps(sorted(sys.modules)))
"""


def _serving_modules(database_url: str) -> set[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MicrosoftAppId": "00000000-0000-0000-0000-000000000001",  # tokens checked, as in production
        "MicrosoftAppPassword": "secret",
        "LOG_LEVEL": "WARNING",
        "BACKGROUND_JOBS": "false",
    }
    for key in ("GRAPH_MAILBOX", "OTEL_EXPORTER_OTLP_ENDPOINT", "APPLICATIONINSIGHTS_CONNECTION_STRING"):
        env.pop(key, None)
    subprocess.run([sys.executable, "app.py", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_serving_bot_loads_only_what_its_turns_need(database_url: str) -> None:
    loaded = _serving_modules(database_url)
    database = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    unwanted = sorted(
        module
        for module in loaded
        for library in (*NEVER, *BY_DATABASE[database])
        if module == library or module.startswith(library + ".")
    )
    assert unwanted == []
    assert {"bot.teams.auth", "aiohttp.web"} <= loaded, "the probe built the bot"
