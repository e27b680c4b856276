"""Card verbs and input ids: the contract between the cards and the router."""

from typing import Final

WELCOME: Final = "welcome"
SESSIONS: Final = "sessions"
DETAILS: Final = "session.details"
STATUS: Final = "session.status"  # one session's place in short: what a card about it is refreshed with
REGISTER: Final = "register"
ABSENCE_FORM: Final = "absence.form"
ABSENCE: Final = "absence.report"
WITHDRAW_ASK: Final = "withdraw.ask"  # the question first: withdrawing gives the seat away
WITHDRAW: Final = "withdraw"
MINE: Final = "mine"
LANGUAGE: Final = "language"
HELP: Final = "help"
SUGGEST: Final = "suggest"  # a theme or question for a coming session; without text, the form
THANKS: Final = "thanks"  # "tack": small talk gets a friendly answer
# Typed instead of pressed ("anmäl mig 2", "kan inte komma"): the session by its number, or asked for.
SAY_REGISTER: Final = "say.register"
SAY_ABSENCE: Final = "say.absence"
SAY_WITHDRAW: Final = "say.withdraw"
SAY_DETAILS: Final = "say.details"
MY_DATA: Final = "privacy.mine"  # everything kept about me, with download links
ERASE_ASK: Final = "privacy.erase.ask"  # "delete my data": the question first
ERASE: Final = "privacy.erase"  # the answer yes
# The whole series: every published coming session, and each one published later, until they leave it.
SERIES_REGISTER: Final = "series.register"
SERIES_LEAVE: Final = "series.leave"
SERIES_STATUS: Final = "series.status"  # the whole series as the person stands in it: what its card refreshes with

# Input ids
ORGANISATION: Final = "organisation"
ORGANISATION_OTHER: Final = "organisation_other"
ROLE: Final = "role"
AFTER_TALK: Final = "after_talk"
REASON: Final = "reason"
CAUSE: Final = "cause"  # why someone can't come, as a choice: clash, travel, other
CAUSES: Final = ("clash", "travel", "other")

OTHER_ORGANISATION: Final = "__other__"
SERIES: Final = "series"  # a series' id: on a whole-series button, or chosen on the suggestion form

# The card a participant's button is on, carried in its data: registering, "can't come" and withdrawing
# answer with that card brought up to date, not with a second confirmation beside the one in the chat.
VIEW: Final = "view"
VIEW_DETAILS: Final = ""
VIEW_SESSIONS: Final = "sessions"
VIEW_MINE: Final = "mine"
VIEW_WELCOME: Final = "welcome"
VIEW_MESSAGE: Final = "message"
VIEWS: Final = (VIEW_DETAILS, VIEW_SESSIONS, VIEW_MINE, VIEW_WELCOME, VIEW_MESSAGE)


def after_talk_input(session_id: int) -> str:
    """Per-session toggle id, so that a list of sessions can carry one toggle each."""
    return f"{AFTER_TALK}_{session_id}"


# Organisers' verbs (taken only from organisers, in their channel or 1:1 chat)
ORG_HELP: Final = "org.help"
ORG_NEW_SERIES: Final = "org.series.new"  # the form for a new series, in the channel that will run it
ORG_SERIES_CREATE: Final = "org.series.create"
ORG_SERIES_EDIT: Final = "org.series.edit"
ORG_SERIES_SAVE: Final = "org.series.save"
ORG_NEW_SESSION: Final = "org.session.new"
ORG_EDIT: Final = "org.session.edit"
ORG_SAVE: Final = "org.session.save"
ORG_COPY: Final = "org.session.copy"  # the new-session form filled from another session, a week later
ORG_SESSION: Final = "org.session"
ORG_PUBLISH: Final = "org.publish"
ORG_CANCEL_FORM: Final = "org.cancel.form"
ORG_CANCEL: Final = "org.cancel"
ORG_PARTICIPANTS: Final = "org.participants"
ORG_EXPORT: Final = "org.export"
ORG_MESSAGE: Final = "org.message"
ORG_LINK: Final = "org.link"
ORG_MEETING: Final = "org.meeting"
ORG_STATS: Final = "org.stats"
ORG_AUDIT: Final = "org.audit"
ORG_ORGANISERS: Final = "org.organisers"
ORG_ADD_ORGANISER: Final = "org.organisers.add"
ORG_REMOVE_ORGANISER: Final = "org.organisers.remove"
ORG_BIND_CHANNEL: Final = "org.channel"
ORG_FEEDBACK: Final = "org.feedback"
ORG_SUGGESTIONS: Final = "org.suggestions"
ORG_ERASE_ASK: Final = "org.erase.ask"  # by e-mail address or @mention: who matched, each with a button
ORG_ERASE: Final = "org.erase"

# Organisers' inputs
NUMBER: Final = "number"
TEXT: Final = "text"
PERSON: Final = "person"  # a participant's id in the bot, on an organiser's erase button
MENTIONED: Final = "mentioned"  # the name of someone @mentioned whose Entra object id Teams did not give

# Proactive messages
FEEDBACK: Final = "feedback"
SUBSCRIBE: Final = "subscribe"
RATING: Final = "rating"
COMMENT: Final = "comment"
