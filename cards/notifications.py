"""Cards the bot sends on its own: confirmations, reminders, changes, announcements, feedback, the digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.events import MessageKind
from bot.domain.model import RegistrationStatus, Series, SessionStanding
from bot.i18n import Translator
from cards import verbs
from cards.elements import Card, Element, card, choice_input, cut, execute, heading, open_url, plain, text, text_input
from cards.sessions import availability, join_link, session_title, standing_actions, status_line


def _header(t: Translator, title: str, standing: SessionStanding) -> list[Element]:
    session = standing.session
    return [
        heading(title, size="Medium"),
        text(session_title(t, session), weight="Bolder"),
        text(t.time_span(session.starts_at, session.ends_at), spacing="None"),
    ]


def _actions(t: Translator, standing: SessionStanding, now: datetime, calendar_url: str = "") -> list[Element]:
    actions = standing_actions(t, standing, now, details=True, view=verbs.VIEW_MESSAGE)
    registration = standing.registration
    if calendar_url and registration is not None and registration.holds_seat and now < standing.session.ends_at:
        # Without Graph nobody puts the session in the person's calendar: a file they can add themselves.
        actions.append(open_url(t.gettext("Add to calendar"), calendar_url))
    return [*actions, execute(t.gettext("My registrations"), verbs.MINE)]


def summary(t: Translator, kind: MessageKind, standing: SessionStanding, *, days: int = 0, sender: str = "") -> str:
    """One line of plain text for the chat list, the notification and screen readers: what the card says."""
    session = standing.session
    name = t.gettext("Session {number}").format(number=session.number)
    when = t.moment(session.starts_at)
    registration = standing.registration
    match kind:
        case MessageKind.CONFIRMATION if registration and registration.status is RegistrationStatus.WAITLISTED:
            return t.gettext("You are on the waiting list for {session}, {when}").format(session=name, when=when)
        case MessageKind.CONFIRMATION:
            return t.gettext("You are registered for {session}, {when}").format(session=name, when=when)
        case MessageKind.PROMOTED:
            return t.gettext("You have got a seat at {session}, {when}").format(session=name, when=when)
        case MessageKind.REMINDER if days <= 1:
            return t.gettext("Reminder: {session} tomorrow, {time}").format(
                session=name, time=t.time(session.starts_at)
            )
        case MessageKind.REMINDER:
            return t.ngettext(
                "Reminder: {session} in {n} day, {when}", "Reminder: {session} in {n} days, {when}", days
            ).format(session=name, n=days, when=when)
        case MessageKind.JOIN_LINK:
            return t.gettext("The meeting link for {session} is here").format(session=name)
        case MessageKind.SESSION_CHANGED:
            return t.gettext("{session} has changed: now {when}").format(session=name, when=when)
        case MessageKind.SESSION_CANCELLED:
            return t.gettext("{session} is cancelled").format(session=name)
        case MessageKind.ANNOUNCEMENT:
            return t.gettext("New session: {session}, {when}").format(session=name, when=when)
        case MessageKind.ORGANISER_MESSAGE:
            return t.gettext("Message from {sender} about {session}").format(
                sender=sender or t.gettext("the organisers"), session=name
            )
        case MessageKind.FEEDBACK:
            return t.gettext("How was {session}?").format(session=name)
        case MessageKind.DECLINED:
            return t.gettext("You declined {session} in your calendar: noted as can't come").format(session=name)
    return session_title(t, session)


def confirmation_message(
    t: Translator, standing: SessionStanding, now: datetime, calendar_url: str = "", *, by_series: bool = False
) -> Card:
    """`by_series`: made when the session was published, because the person is registered for the whole series."""
    body = [*_header(t, t.gettext("Your registration"), standing), status_line(t, standing), *join_link(t, standing)]
    if by_series:
        body.append(
            text(
                t.gettext(
                    "You are registered for the whole series, so I registered you when this session was published. "
                    "Can't come? Tell us below; your registration for the series still stands."
                )
            )
        )
    return card(body, _actions(t, standing, now, calendar_url))


def promoted_message(t: Translator, standing: SessionStanding, now: datetime, calendar_url: str = "") -> Card:
    body = _header(t, t.gettext("A seat became free: you are registered"), standing) + join_link(t, standing)
    body.append(text(t.gettext("Can't come after all? Tell us, so that someone else can have the seat.")))
    return card(body, _actions(t, standing, now, calendar_url))


def reminder_message(
    t: Translator, standing: SessionStanding, days: int, now: datetime, calendar_url: str = ""
) -> Card:
    title = (
        t.gettext("Reminder: tomorrow")
        if days <= 1
        else t.ngettext("Reminder: in {n} day", "Reminder: in {n} days", days).format(n=days)
    )
    body = [*_header(t, title, standing), status_line(t, standing), *join_link(t, standing)]
    return card(body, _actions(t, standing, now, calendar_url))


def join_link_message(t: Translator, standing: SessionStanding, now: datetime) -> Card:
    return card(
        _header(t, t.gettext("The meeting link is here"), standing) + join_link(t, standing), _actions(t, standing, now)
    )


def changed_message(t: Translator, standing: SessionStanding, now: datetime) -> Card:
    body = _header(t, t.gettext("The session has changed"), standing)
    body.append(text(t.gettext("Check the new time above. Your registration still stands.")))
    return card(body + join_link(t, standing), _actions(t, standing, now))


def cancelled_message(t: Translator, standing: SessionStanding, reason: str) -> Card:
    body = _header(t, t.gettext("The session is cancelled"), standing)
    if reason:
        body.append(text(t.gettext("Reason: {reason}").format(reason=reason)))
    body.append(text(t.gettext("You don't need to do anything.")))
    return card(body, [execute(t.gettext("All sessions"), verbs.SESSIONS)])


def announcement_message(t: Translator, series: Series, standing: SessionStanding, now: datetime) -> Card:
    body = _header(t, t.gettext("New session in {series}").format(series=series.title), standing)
    body.append(availability(t, standing, now))
    if standing.session.description:
        body.append(text(cut(standing.session.description, 600), maxLines=4))
    body.append(
        text(t.gettext("You get this because you have taken part in the series. Write “unsubscribe” to stop."),
             isSubtle=True, size="Small")
    )  # fmt: skip
    return card(body, standing_actions(t, standing, now, details=True, view=verbs.VIEW_MESSAGE))


def organiser_message(t: Translator, standing: SessionStanding, sender: str, message: str, now: datetime) -> Card:
    body = _header(t, t.gettext("Message from {sender}").format(sender=sender or t.gettext("the organisers")), standing)
    body.append(text(message))
    return card(body, _actions(t, standing, now))


def feedback_message(t: Translator, standing: SessionStanding) -> Card:
    body = _header(t, t.gettext("How was the session?"), standing)
    body.append(
        choice_input(
            verbs.RATING,
            t.gettext("Your rating, 1 (poor) to 5 (very good)"),
            [(str(n), str(n)) for n in range(5, 0, -1)],
            required=True,
            error=t.gettext("Choose a rating"),
        )
    )
    body.append(text_input(verbs.COMMENT, t.gettext("Anything to tell the organisers? (optional)"), multiline=True))
    return card(body, [execute(t.gettext("Send"), verbs.FEEDBACK, {"session": standing.session.id})])


def feedback_thanks(t: Translator) -> Card:
    return card(
        [
            text(t.gettext("Thank you! The organisers will read it."), weight="Bolder"),
            text(t.gettext("Is there a theme or question you would like a coming session to take up?")),
        ],
        [execute(t.gettext("Suggest a theme"), verbs.SUGGEST)],
    )


def digest_summary(t: Translator, absences: int, suggestions: int, undelivered: int) -> str:
    parts = []
    if undelivered:
        message = t.ngettext("{n} message not delivered", "{n} messages not delivered", undelivered)
        parts.append(message.format(n=undelivered))
    if absences:
        parts.append(t.ngettext("{n} new absence", "{n} new absences", absences).format(n=absences))
    if suggestions:
        message = t.ngettext("{n} new theme suggestion", "{n} new theme suggestions", suggestions)
        parts.append(message.format(n=suggestions))
    return t.gettext("Lärträff: {news}").format(news=", ".join(parts) or t.gettext("nothing new"))


def digest_message(
    t: Translator, lines: Sequence[tuple[int, str, str, str]], suggestions: int = 0, undelivered: int = 0
) -> Card:
    """(session number, name, organisation, reason) for the absences since the last digest, how many
    theme suggestions came in, and how many messages to participants could not be delivered."""
    body: list[Element] = []
    if undelivered:
        body.append(heading(t.gettext("Messages not delivered"), size="Medium"))
        body.append(text(t.ngettext(
            "{n} message to participants could not be delivered (the person has removed the app, or sending "
            "was interrupted). Check the participant lists before the session.",
            "{n} messages to participants could not be delivered (the people have removed the app, or sending "
            "was interrupted). Check the participant lists before the session.",
            undelivered).format(n=undelivered)))  # fmt: skip
    actions = [execute(t.gettext("Statistics"), verbs.ORG_STATS)]
    if suggestions:
        body.append(heading(t.gettext("Theme suggestions"), size="Medium"))
        body.append(text(t.ngettext("{n} new suggestion from participants.", "{n} new suggestions from participants.",
                                    suggestions).format(n=suggestions)))  # fmt: skip
        actions.insert(0, execute(t.gettext("Theme suggestions"), verbs.ORG_SUGGESTIONS))
    if lines:
        body.append(heading(t.gettext("New absences"), size="Medium"))
    current = None
    for number, name, organisation, reason in lines:
        if number != current:
            body.append(text(t.gettext("Session {number}").format(number=number), weight="Bolder", separator=True))
            current = number
        line = " · ".join(x for x in (name, organisation) if x)
        if reason:
            line += " · " + t.gettext("“{reason}”").format(reason=reason)
        body.append(plain(line, spacing="None"))
    return card(body, actions)


def declined_message(t: Translator, standing: SessionStanding, now: datetime) -> Card:
    body = _header(t, t.gettext("You declined the meeting invitation"), standing)
    body.append(
        text(t.gettext("So we have noted that you can't come, and your seat can go to someone else. Changed your "
                       "mind? Register again while there are seats."))
    )  # fmt: skip
    return card(body, _actions(t, standing, now))


def meeting_problem_summary(t: Translator, number: int) -> str:
    return t.gettext("The Teams meeting of session {number} needs you").format(number=number)


def meeting_problem_message(t: Translator, number: int, problem: str, details: dict[str, object]) -> Card:
    """What is wrong with a session's Teams meeting, and what the organisers can do about it."""
    mailbox = str(details.get("mailbox", ""))
    messages = {
        "no_join_url": t.gettext(
            "The calendar event of session {number} was created in {mailbox}, but Teams gave it no meeting link. "
            "The mailbox needs a Teams licence, and Teams must be allowed as its online meeting provider. "
            "Fix that, then write “meeting {number}”. Until then you can set a link by hand: “link {number} <link>”."
        ),
        "forbidden": t.gettext(
            "Microsoft Graph refused to change the calendar of {mailbox} for session {number} (access denied). "
            "Check that the app has the Calendars.ReadWrite application permission with admin consent and that "
            "its Exchange scope includes this mailbox (see the deployment guide). The bot tries again every hour."
        ),
        "mailbox_not_found": t.gettext(
            "Microsoft Graph does not know the mailbox {mailbox}, so session {number} has no Teams meeting. "
            "Check the GRAPH_MAILBOX setting. The bot tries again every hour."
        ),
        "rejected": t.gettext(
            "Microsoft Graph rejected a change to the Teams meeting of session {number} (HTTP {status} {code}). "
            "The bot tries again every hour; if it goes on, set a link by hand: “link {number} <link>”."
        ),
        "lobby_forbidden": t.gettext(
            "Microsoft Graph did not let the bot open the lobby of session {number}'s Teams meeting (access "
            "denied), so people from the member organisations may wait in the lobby until someone admits them. "
            "Grant the app the OnlineMeetings.ReadWrite.All application permission and add it to the application "
            "access policy of {mailbox} (see the deployment guide). The bot tries again with each check."
        ),
        "near_limit": t.gettext(
            "Session {number} has {invited} people invited to its Teams meeting. Teams invitations hold at most 500: "
            "beyond that, people are still registered and get the link from the bot, but are not in the invitation. "
            "Lower the number of seats if every participant must be in the calendar invitation."
        ),
        "over_limit": t.gettext(
            "Session {number} has more registered than a Teams invitation can hold (500): the last {left_out} are "
            "not in the calendar invitation, but they get the link from the bot."
        ),
    }
    template = messages.get(problem, messages["rejected"])
    values = {"number": number, "mailbox": mailbox, "status": details.get("status", ""),
              "code": details.get("code", ""), "invited": details.get("invited", ""),
              "left_out": details.get("left_out", "")}  # fmt: skip
    body = [heading(t.gettext("Teams meeting of session {number}").format(number=number), size="Medium"),
            text(template.format(**values))]  # fmt: skip
    return card(body, [execute(t.gettext("Organiser commands"), verbs.ORG_HELP)])


def subscription_card(t: Translator, subscribed: bool) -> Card:
    message = (
        t.gettext("You will hear about new sessions again.")
        if subscribed
        else t.gettext("You will no longer hear about new sessions. Reminders for your registrations still come.")
    )
    return card([text(message, weight="Bolder")], [execute(t.gettext("All sessions"), verbs.SESSIONS)])
