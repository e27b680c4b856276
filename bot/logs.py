"""Log formatting that keeps personal data out of tracebacks."""

from __future__ import annotations

import logging
from typing import Any


class DiscreetFormatter(logging.Formatter):
    """PostgreSQL's DETAIL line repeats the row or key a statement failed on ("Key (email)=(…) already
    exists"); tracebacks in the log keep the error and its place, not the values."""

    def formatException(self, ei: Any) -> str:
        text = super().formatException(ei)
        return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("DETAIL:"))
