"""The service's log keeps PostgreSQL's DETAIL line (the failing row or key) out of tracebacks."""

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
