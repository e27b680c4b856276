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
