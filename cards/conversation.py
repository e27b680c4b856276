"""Cards for the conversation itself: welcome, help, and friendly answers when something is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain import errors
from bot.domain.model import Contact, Series, SessionStanding
from bot.i18n import Translator
from cards import verbs
from cards.elements import (
    Card,
    Element,
    alert,
    card,
    contact_line,
    cut,
    execute,
    heading,
    kept_current,
    language_switch,
    plain,
    text,
)
from cards.sessions import SERIES_SHOWN, session_summary, whole_series


def welcome_card(
    t: Translator,
    series: Sequence[Series],
    standings: Sequence[SessionStanding],
    now: datetime,
    in_series: frozenset[int] = frozenset(),
) -> Card:
    """`in_series`: the series the person is registered for as a whole."""
    body: list[Element] = []
    if len(series) == 1:
        (one,) = series
        body.append(heading(t.gettext("Welcome to {title}").format(title=one.title)))
        body.append(text(one.organiser, isSubtle=True, spacing="None"))
        if one.description:
            # The opening paragraph, bounded: the series file does not bound it, and Teams takes 28 KB.
            body.append(text(cut(one.description.split("\n\n", 1)[0], 800)))
    else:
        body.append(heading(t.gettext("Welcome to Lärträff")))  # each series is named below, with its button
    body.append(
        text(t.gettext("Here you can see the coming sessions, register with one click and tell us if you can't come."))
    )
    for standing in standings[:2]:
        body.append(session_summary(t, standing, now, verbs.VIEW_WELCOME))
    for one in series[:SERIES_SHOWN]:
        body.extend(whole_series(t, one, one.id in in_series, named=len(series) > 1))
    body.append(
        text(
            t.gettext("The themes are shaped by those who take part: press “Suggest a theme” or write “suggest”."),
            isSubtle=True,
        )
    )
    body.append(
        text(
            t.gettext("To see what I keep about you, or to have it deleted, write “my data”."),
            isSubtle=True,
            spacing="None",
        )
    )
    actions = [
        execute(t.gettext("All sessions"), verbs.SESSIONS),
        execute(t.gettext("My registrations"), verbs.MINE),
        execute(t.gettext("Suggest a theme"), verbs.SUGGEST),
        execute(t.gettext("Help"), verbs.HELP),
        language_switch(t.language.value),
    ]
    return kept_current(card(body, actions), verbs.WELCOME)


def help_card(t: Translator, *, unknown: str = "", contacts: Sequence[Contact] = ()) -> Card:
    body: list[Element] = []
    if unknown:
        body.append(plain(t.gettext("I didn't understand “{text}”.").format(text=unknown[:80]), weight="Bolder"))
        if contacts:
            # A person can answer what the bot can't: the series' contacts, a click away.
            body.append(text(t.gettext("Questions? Ask the contact people:"), spacing="Small"))
            body.extend(text(contact_line(c, with_organisation=True), spacing="None") for c in contacts[:3])
    body.append(heading(t.gettext("What I can do"), size="Medium"))
    rows = [
        (t.gettext("sessions"), t.gettext("the coming sessions, with buttons to register")),
        (t.gettext("my"), t.gettext("your registrations and places on waiting lists")),
        (t.gettext("suggest"), t.gettext("suggest a theme or question for a coming session")),
        (t.gettext("english / svenska"), t.gettext("choose the language I write in")),
        (t.gettext("my data"), t.gettext("everything I keep about you, to download or delete")),
        (t.gettext("help"), t.gettext("this list")),
    ]
    body.append({"type": "FactSet", "facts": [{"title": c, "value": d} for c, d in rows]})
    body.append(
        text(t.gettext("Can't come to a session you registered for? Open “my” and press “Can't come”."), isSubtle=True)
    )
    actions = [
        execute(t.gettext("All sessions"), verbs.SESSIONS),
        execute(t.gettext("My registrations"), verbs.MINE),
        language_switch(t.language.value),
    ]
    return card(body, actions)


def channel_hint_card(t: Translator) -> Card:
    return card(
        [
            heading(t.gettext("Register in a chat with me"), size="Medium"),
            text(
                t.gettext(
                    "Registrations are personal: open a 1:1 chat with me and write “sessions” to see what is coming."
                )
            ),
            text(t.gettext("Organisers: mention me with “organiser” to see your commands."), isSubtle=True),
        ]
    )


def error_message(t: Translator, error: errors.DomainError) -> str:
    match error:
        case errors.SessionNotFound():
            return t.gettext("That session is not open for registration. Here are the sessions that are.")
        case errors.SessionCancelled():
            return t.gettext("Session {number} has been cancelled.").format(number=error.number)
        case errors.SessionAlreadyStarted():
            return t.gettext("Session {number} has already started, so registration is closed.").format(
                number=error.number
            )
        case errors.SessionAlreadyOver():
            return t.gettext("Session {number} is over, so nothing can be changed any more.").format(
                number=error.number
            )
        case errors.RegistrationClosed():
            return t.gettext(
                "Registration for session {number} closed on {date}. Contact the organisers if you still want to come."
            ).format(number=error.number, date=t.moment(error.deadline))
        case errors.NotRegistered():
            return t.gettext("You are not registered for that session, so there is nothing to cancel.")
        case errors.ProfileIncomplete():
            return t.gettext("Please fill in your organisation and your role.")
        case errors.MemberNotFound():
            return t.gettext(
                "Teams did not tell me who {name} is. Write their Entra object id instead: “add organiser <id>”."
            ).format(name=error.name)
        case errors.SuggestionTooLong():
            return t.gettext("That is longer than {limit} characters. Please shorten it a little.").format(
                limit=error.limit
            )
        case errors.ParticipantNotFound():
            if not error.who:
                return t.gettext(
                    "Write the person's e-mail address or @mention them: “erase participant anna@example.org”."
                )
            return t.gettext("I know nobody by “{who}”, so nothing was deleted.").format(who=error.who[:80])
        case errors.InvalidInput():
            return t.gettext("Something in that request was not right, so nothing was changed. Please try again.")
        case errors.NotAnOrganiser():
            return t.gettext("Sorry, only the series' organisers can do that. Nothing was changed.")
        case errors.NotTheOrganiserChannel():
            return t.gettext(
                "Organiser commands are taken in the organisers' channel or in a 1:1 chat with me, not here. "
                "Nothing was changed."
            )
        case errors.WhichSeries():
            return t.gettext(
                "You organise several series ({titles}). Give the command in the organisers' channel of the series "
                "it is for. Nothing was changed."
            ).format(titles=", ".join(error.titles[:6]))
        case errors.SeriesNeedsChannel():
            return t.gettext(
                "Write “new series” in the Teams channel the series will be run from: it becomes its organisers' "
                "channel. Nothing was changed."
            )
        case errors.ChannelTaken():
            return t.gettext(
                "This channel already runs {title}. Make the new series in a channel of its own. Nothing was changed."
            ).format(title=error.title[:120])
        case errors.UnknownSessionNumber():
            return t.gettext("There is no session {number} in the series.").format(number=error.number)
        case errors.NotATeamsMeetingUrl():
            return t.gettext(
                "That is not a Teams meeting link. Copy the link from the meeting in Teams: "
                "it starts with https://teams.microsoft.com/l/meetup-join/ or https://teams.microsoft.com/meet/."
            )
        case errors.SessionNotPublished():
            return t.gettext("Session {number} is a draft: publish it first.").format(number=error.number)
        case errors.MeetingsNotConfigured():
            return t.gettext(
                "This installation does not create Teams meetings by itself (Microsoft Graph is not set up). "
                "Create the meeting in Teams and set its link with “link <number> <link>”."
            )
        case errors.NothingToSend():
            return t.gettext("Write the message after the session number, e.g. “message 3 Welcome!”.")
        case errors.LastOrganiser():
            return t.gettext("That would leave the series without organisers, so nothing was changed.")
        case errors.ExportExpired():
            return t.gettext("That download link has expired. Ask for a new export.")
    return t.gettext("That did not work, and nothing was changed.")


def error_card(t: Translator, error: errors.DomainError, *, organiser: bool = False) -> Card:
    if organiser:
        actions = [execute(t.gettext("Organiser commands"), verbs.ORG_HELP)]
    else:
        actions = [
            execute(t.gettext("All sessions"), verbs.SESSIONS),
            execute(t.gettext("My registrations"), verbs.MINE),
        ]
    return card([alert(error_message(t, error))], actions)


def apology_card(t: Translator, correlation_id: str) -> Card:
    return card(
        [
            text(t.gettext("Sorry, something went wrong on our side. Nothing was changed."), weight="Bolder"),
            text(
                t.gettext(
                    "Please try again in a moment. If it keeps happening, give the organisers this code: {code}"
                ).format(code=correlation_id),
                isSubtle=True,
            ),
        ],
        [execute(t.gettext("All sessions"), verbs.SESSIONS)],
    )
