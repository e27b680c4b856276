"""Log formatting that keeps personal data out: tracebacks without the row a statement failed on, and, as
JSON lines, what a turn was (correlation id, activity id, tenant, route) but never who or what they typed."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The turn a line belongs to: set at the edge and by the router, per request task (aiohttp runs each
# request in its own task, which gets its own copy of the context).
_TURN: ContextVar[dict[str, str] | None] = ContextVar("log_turn", default=None)
FIELDS = ("correlation_id", "activity_id", "tenant", "route")


def bind(**fields: str) -> None:
    """Adds to what every line logged in this task carries (FIELDS only: nothing that names a person)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a log field: {sorted(unknown)}")
    _TURN.set({**(_TURN.get() or {}), **fields})


def bound(field: str) -> str:
    """What was bound for this task ("" when nothing was)."""
    return (_TURN.get() or {}).get(field, "")


class TurnFilter(logging.Filter):
    """Puts the turn's fields on each record; a field given with the call (`extra=`) wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_TURN.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class DiscreetFormatter(logging.Formatter):
    """PostgreSQL's DETAIL line repeats the row or key a statement failed on ("Key (email)=(…) already
    exists"); tracebacks in the log keep the error and its place, not the values."""

    def formatException(self, ei: Any) -> str:
        text = super().formatException(ei)
        return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("DETAIL:"))


class JsonFormatter(DiscreetFormatter):
    """One JSON object a line (`LOG_FORMAT=json`), for Azure Monitor, Loki or Elastic to index."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
