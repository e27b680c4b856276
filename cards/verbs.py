"""Card verbs and input ids: the contract between the cards and the router."""

from typing import Final

SESSIONS: Final = "sessions"
DETAILS: Final = "session.details"
REGISTER: Final = "register"
ABSENCE_FORM: Final = "absence.form"
ABSENCE: Final = "absence.report"
WITHDRAW: Final = "withdraw"
MINE: Final = "mine"
LANGUAGE: Final = "language"
HELP: Final = "help"

# Input ids
ORGANISATION: Final = "organisation"
ORGANISATION_OTHER: Final = "organisation_other"
ROLE: Final = "role"
AFTER_TALK: Final = "after_talk"
REASON: Final = "reason"

OTHER_ORGANISATION: Final = "__other__"


def after_talk_input(session_id: int) -> str:
    """Per-session toggle id, so that a list of sessions can carry one toggle each."""
    return f"{AFTER_TALK}_{session_id}"
