"""The service's log and telemetry keep personal data out: no DETAIL lines, no names in JSON lines or spans."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import logging, app
app._configure_logging("INFO")
address = "@".join(["a.person", "example.com"])
try:
    raise RuntimeError("duplicate key value violates unique constraint\\nDETAIL:  Key (email)=(" + address + ")")
except RuntimeError:
    logging.getLogger("bot").exception("unexpected error [abc123]")
"""


def test_an_error_is_logged_without_its_detail_line() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "unexpected error [abc123]" in done.stderr
    assert "duplicate key value violates unique constraint" in done.stderr
    assert "a.person@example.com" not in done.stderr


JSON_SCRIPT = """
import logging, app
from bot.logs import bind
app._configure_logging("INFO", "json")
bind(activity_id="act-1", tenant="tenant-1")
bind(route="register")
logging.getLogger("bot").info("registered")
address = "@".join(["a.person", "example.com"])
try:
    raise RuntimeError("duplicate key\\nDETAIL:  Key (email)=(" + address + ")")
except RuntimeError:
    logging.getLogger("bot").exception("unexpected error [abc123]", extra={"correlation_id": "abc123"})
"""


def test_json_lines_carry_the_turn_and_no_personal_data() -> None:
    import json

    done = subprocess.run([sys.executable, "-c", JSON_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert [line["message"] for line in lines] == ["registered", "unexpected error [abc123]"]
    first, error = lines
    assert {k: first[k] for k in ("level", "logger", "activity_id", "tenant", "route")} == {
        "level": "INFO", "logger": "bot", "activity_id": "act-1", "tenant": "tenant-1", "route": "register"
    }  # fmt: skip
    assert error["correlation_id"] == "abc123"
    assert "duplicate key" in error["exception"]
    assert "a.person@example.com" not in done.stderr


def test_only_the_turn_s_fields_can_be_bound() -> None:
    import pytest

    from bot.logs import bind

    with pytest.raises(ValueError, match="not a log field"):
        bind(name="Åsa Öberg")


def test_with_telemetry_off_nothing_of_opentelemetry_is_loaded() -> None:
    """Off is free: the hot path checks one variable, and the SDK (some 10 MiB) is never imported."""
    script = (
        "import sys, app, bot.web, bot.teams.handler, bot.jobs.delivery, bot.storage.uow\n"
        "from bot import telemetry\n"
        "assert not telemetry.start_from_settings('', '', '1.0.0')\n"
        "with telemetry.turn('message', 't') as result:\n"
        "    result['route'] = 'sessions'\n"
        "loaded = [m for m in sys.modules if m.startswith('opentelemetry')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)
