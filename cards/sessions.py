"""Cards a participant sees about sessions: the list, one session in full, the forms, their own places."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.model import Person, RegistrationStatus, Series, Session, SessionStanding
from bot.i18n import Translator
from cards import verbs
from cards.elements import (
    Card,
    Element,
    action_set,
    alert,
    card,
    choice_input,
    contact_line,
    container,
    cut,
    execute,
    facts,
    heading,
    kept_current,
    language_switch,
    plain,
    text,
    text_input,
    toggle,
)
from cards.paging import page_buttons, page_note

SERIES_SHOWN = 8  # series offered "the whole series" on one card; more than that, and the list is long already

MORE = "more"  # the details card's part behind "Show more"
PAGE_SIZE = 5
# What the details card shows at most of texts the series file does not bound, so that the longest series
# still fits in Teams' 28 KB, even in "ö" (two bytes in UTF-8). The invitation this was built for uses a
# fraction of each.
DESCRIPTION_SHOWN = 2500
PROGRAMME_SHOWN = 1600  # characters of titles and speakers together
PROGRAMME_LINE_SHOWN = 200
SERIES_TEXT_SHOWN = 1600
TARGET_GROUP_SHOWN = 500
CONTRIBUTORS_SHOWN = 12
CONTACTS_SHOWN = 4


def session_title(t: Translator, session: Session) -> str:
    return t.gettext("Session {number}: {title}").format(number=session.number, title=session.title)


def status_label(t: Translator, status: RegistrationStatus) -> str:
    """A registration's status in a word, for lists and files."""
    return {
        RegistrationStatus.REGISTERED: t.gettext("registered"),
        RegistrationStatus.WAITLISTED: t.gettext("on the waiting list"),
        RegistrationStatus.ABSENT: t.gettext("absent"),
        RegistrationStatus.WITHDRAWN: t.gettext("withdrawn"),
    }[status]


def status_line(t: Translator, standing: SessionStanding) -> Element:
    registration = standing.registration
    if registration is None or registration.status is RegistrationStatus.WITHDRAWN:
        return text(t.gettext("You are not registered."), isSubtle=True, spacing="Small")
    if registration.status is RegistrationStatus.REGISTERED:
        if not standing.session.has_after_talk:
            message = t.gettext("✅ You are registered.")
        elif registration.after_talk:
            message = t.gettext("✅ You are registered, after-talk included.")
        else:
            message = t.gettext("✅ You are registered, without the after-talk.")
        # Status in the host's own text colour, bold, with an icon and words: Teams' green and yellow are
        # unreadable on white (2.1:1 and 1.5:1), and colour alone says nothing to many.
        return text(message, weight="Bolder", spacing="Small")
    if registration.status is RegistrationStatus.WAITLISTED:
        message = t.gettext("⏳ You are on the waiting list, place {position}.").format(
            position=standing.waitlist_position or "?"
        )
        return text(message, weight="Bolder", spacing="Small")
    message = "🚫 " + t.gettext("You have reported that you can't come.")
    if registration.absence_reason:
        reason = t.gettext("Reason: {reason}").format(reason=registration.absence_reason)
        return plain(f"{message} {reason}", weight="Bolder", spacing="Small")
    return text(message, weight="Bolder", spacing="Small")


def _seats_text(t: Translator, standing: SessionStanding) -> str:
    seats = standing.seats_left
    if seats is None:
        return ""
    if seats == 0:
        return t.gettext("Fully booked: new registrations join the waiting list")
    return t.ngettext("{n} seat left", "{n} seats left", seats).format(n=seats)


def _deadline_text(t: Translator, session: Session, now: datetime) -> str:
    if now > session.registration_deadline:
        return t.gettext("Registration closed {date}").format(date=t.short_date(session.registration_deadline))
    return t.gettext("Last day to register: {date}").format(date=_deadline_day(t, session))


def _deadline_day(t: Translator, session: Session) -> str:
    """The day alone when registration closes at the end of it, as almost always: "kl. 23.59" says nothing."""
    deadline = t.local(session.registration_deadline)
    if (deadline.hour, deadline.minute) == (23, 59):
        return t.date(deadline)
    return t.moment(deadline)


def availability(t: Translator, standing: SessionStanding, now: datetime) -> Element:
    """Seats left and the last day to register, in a subtle line."""
    line = " · ".join(x for x in (_seats_text(t, standing), _deadline_text(t, standing.session, now)) if x)
    return text(line, isSubtle=True, spacing="None", size="Small")


def _after_talk_title(t: Translator, session: Session) -> str:
    """Names the session: a list holds a toggle per session, and the times alone are often the same."""
    assert session.after_talk_ends_at is not None
    return t.gettext("I'll stay for the after-talk of session {number}, {start}–{end}").format(
        number=session.number, start=t.time(session.ends_at), end=t.time(session.after_talk_ends_at)
    )


def standing_actions(
    t: Translator,
    standing: SessionStanding,
    now: datetime,
    *,
    details: bool,
    view: str = verbs.VIEW_DETAILS,
    page: int = 0,
) -> list[Element]:
    """The buttons that fit where the person stands; registering needs one click. `view`: the card they are
    on (verbs.VIEWS), which the answer to a change is, at its `page`."""
    session = standing.session
    registration = standing.registration
    data: dict[str, object] = {"session": session.id}
    if view:
        data[verbs.VIEW] = view
    if page:
        data["page"] = page
    actions: list[Element] = []

    def button(title: str, verb: str, payload: dict[str, object], style: str | None = None) -> Element:
        # A list repeats "Register" per session: the tooltip, read out by screen readers, says which (by
        # number: a title can be 300 characters, repeated in every button of the list).
        tooltip = t.gettext("{action} – session {number}").format(action=title, number=session.number)
        return execute(title, verb, payload, style=style, tooltip=tooltip)

    if details:
        actions.append(button(t.gettext("Details"), verbs.DETAILS, {"session": session.id}))
    active = registration is not None and registration.is_active
    if not active and session.registration_open(now):
        full = standing.seats_left == 0
        again = registration is not None and registration.status is RegistrationStatus.WITHDRAWN
        title = (
            t.gettext("Join the waiting list")
            if full
            else t.gettext("Register again")
            if again
            else t.gettext("Register")
        )
        actions.append(button(title, verbs.REGISTER, data, style="positive"))
    if registration is not None and active and now < session.starts_at and session.has_after_talk:
        # The after-talk is the person's choice at any time before the session; the seat stays.
        wanted = not registration.after_talk
        title = t.gettext("Stay for the after-talk") if wanted else t.gettext("Skip the after-talk")
        actions.append(button(title, verbs.REGISTER, {**data, verbs.AFTER_TALK: wanted}))
    if active and now < session.ends_at:
        actions.append(button(t.gettext("Can't come"), verbs.ABSENCE_FORM, data))
        assert registration is not None
        leave = (
            t.gettext("Leave the waiting list")
            if registration.status is RegistrationStatus.WAITLISTED
            else t.gettext("Withdraw")
        )
        actions.append(button(leave, verbs.WITHDRAW_ASK, data, style="destructive"))
    return actions


def withdraw_question_card(
    t: Translator, standing: SessionStanding, view: str = verbs.VIEW_DETAILS, page: int = 0
) -> Card:
    """Withdrawing gives the seat away, and is not the same as "can't come": asked once, with both."""
    session = standing.session
    registration = standing.registration
    queued = registration is not None and registration.status is RegistrationStatus.WAITLISTED
    data: dict[str, object] = {"session": session.id, verbs.VIEW: view, "page": page}
    question = (
        t.gettext("Leave the waiting list for session {number}?")
        if queued
        else t.gettext("Withdraw from session {number}?")
    )
    body: list[Element] = [
        heading(question.format(number=session.number), size="Medium"),
        text(session_title(t, session), weight="Bolder"),
        text(t.time_span(session.starts_at, session.ends_at), spacing="None"),
        text(
            t.gettext(
                "Withdrawing removes your registration, and your seat goes to the next in the queue. If you "
                "just can't come this time, choose “Can't come” instead: the organisers then see why."
            )
        ),
    ]
    actions = [
        execute(t.gettext("Yes, withdraw"), verbs.WITHDRAW, data, style="destructive"),
        execute(t.gettext("Can't come"), verbs.ABSENCE_FORM, data),
        execute(t.gettext("No, keep my place"), verbs.DETAILS, {"session": session.id}),
    ]
    return card(body, actions)


def _after_talk_toggle(t: Translator, standing: SessionStanding, now: datetime) -> list[Element]:
    registration = standing.registration
    session = standing.session
    if not session.has_after_talk or not session.registration_open(now):
        return []
    if registration is not None and registration.is_active:
        return []
    # Off unless the person ticks it: staying on is their choice, never made for them.
    return [toggle(verbs.after_talk_input(session.id), _after_talk_title(t, session), False)]


def session_summary(
    t: Translator, standing: SessionStanding, now: datetime, view: str = verbs.VIEW_SESSIONS
) -> Element:
    session = standing.session
    lines: list[Element] = [
        heading(session_title(t, session), size="Medium"),
        text(t.time_span(session.starts_at, session.ends_at), spacing="None"),
    ]
    lines.append(availability(t, standing, now))
    lines.append(status_line(t, standing))
    lines.extend(_after_talk_toggle(t, standing, now))
    lines.append(action_set(standing_actions(t, standing, now, details=True, view=view)))
    return container(lines, separator=True, spacing="Medium")


def sessions_card(
    t: Translator,
    standings: Sequence[SessionStanding],
    now: datetime,
    page: int = 0,
    series: Sequence[tuple[Series, bool]] = (),
) -> Card:
    """`series`: each series and whether the person is registered for all of it; with several, each session
    says which it belongs to."""
    pages = max((len(standings) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 0), pages - 1)
    shown = standings[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    body: list[Element] = [heading(t.gettext("Coming sessions"))]
    if not shown:
        body.append(
            text(t.gettext("No sessions are open at the moment. You will hear from us when the next one is published."))
        )
    titles = {s.id: s.title for s, _ in series} if len(series) > 1 else {}
    for standing in shown:
        summary = session_summary(t, standing, now)
        if standing.session.series_id in titles:
            summary["items"].insert(0, text(cut(titles[standing.session.series_id], 120), isSubtle=True))
        body.append(summary)
    body.extend(page_note(t, page, pages, size="Small"))
    # The whole series of the sessions on this page: a series with nothing coming has nothing to join yet.
    on_page = {s.session.series_id for s in shown}
    for one, registered in [(s, r) for s, r in series if s.id in on_page or len(series) == 1]:
        body.extend(whole_series(t, one, registered, named=len(series) > 1))
    actions = page_buttons(t, page, pages, verbs.SESSIONS, next_title=t.gettext("More sessions"))
    actions.append(execute(t.gettext("My registrations"), verbs.MINE))
    actions.append(language_switch(t.language.value))
    return kept_current(card(body, actions), verbs.SESSIONS, {"page": page})


def details_card(
    t: Translator, series: Series, standing: SessionStanding, now: datetime, in_series: bool | None = None
) -> Card:
    """Where the person stands and what they can do first, the programme next; the series' long text, its
    target group and everyone taking part behind "Show more", so that the button is not 1,600 px down."""
    session = standing.session
    body: list[Element] = [
        text(series.title, isSubtle=True, spacing="None"),
        heading(session_title(t, session)),
        text(t.time_span(session.starts_at, session.ends_at), weight="Bolder", spacing="Small"),
        status_line(t, standing),
        *_after_talk_toggle(t, standing, now),
    ]
    buttons = standing_actions(t, standing, now, details=False)
    if buttons:
        body.append(action_set(buttons))
    body.append(
        facts(
            [
                (t.gettext("Registration"), _deadline_fact(t, session, now)),
                (t.gettext("Seats"), _seats_text(t, standing)),
                (t.gettext("After-talk"), _after_talk_fact(t, session)),
                (t.gettext("Place"), _place_text(t, session)),
                (t.gettext("Fee"), series.fee or t.gettext("None")),
                (t.gettext("Invited guest"), session.guest),
            ]
        )
    )
    if session.description:
        body.append(text(cut(session.description, DESCRIPTION_SHOWN)))
    if session.programme:
        body.append(heading(t.gettext("Programme"), size="Medium"))
        left = PROGRAMME_SHOWN
        for item in session.programme:
            title, speakers = cut(item.title, PROGRAMME_LINE_SHOWN), cut(item.speakers, PROGRAMME_LINE_SHOWN)
            left -= len(title) + len(speakers)
            if left < 0:
                body.append(text("…", spacing="Small"))
                break
            body.append(text("• " + title, spacing="Small"))
            if speakers:
                body.append(text(speakers, isSubtle=True, spacing="None"))
    more: list[Element] = []
    if series.target_group:
        more.append(heading(t.gettext("Target group"), size="Medium"))
        more.append(text(cut(series.target_group, TARGET_GROUP_SHOWN)))
    if series.description:
        more.append(heading(t.gettext("About {series}").format(series=series.title), size="Medium"))
        more.extend(text(paragraph) for paragraph in cut(series.description, SERIES_TEXT_SHOWN).split("\n\n"))
    if session.contributors:
        more.append(heading(t.gettext("Taking part"), size="Medium"))
        more.extend(text(cut(name, 80), spacing="None") for name in session.contributors[:CONTRIBUTORS_SHOWN])
    if in_series is not None:
        body.extend(whole_series(t, series, in_series))
    if more:
        body.append(container(more, id=MORE, isVisible=False))
        show = {"type": "Action.ToggleVisibility", "title": t.gettext("Show more"), "targetElements": [MORE]}
        body.append(action_set([show]))
    if series.contacts:
        body.append(heading(t.gettext("Contact"), size="Medium"))
        body.extend(text(contact_line(contact), spacing="Small") for contact in series.contacts[:CONTACTS_SHOWN])
    actions = [execute(t.gettext("All sessions"), verbs.SESSIONS)]
    return kept_current(card(body, actions), verbs.DETAILS, {"session": session.id})


def _deadline_fact(t: Translator, session: Session, now: datetime) -> str:
    if now > session.registration_deadline:
        return t.gettext("closed {date}").format(date=t.short_date(session.registration_deadline))
    return t.gettext("by {date}").format(date=_deadline_day(t, session))


def _after_talk_fact(t: Translator, session: Session) -> str:
    if session.after_talk_ends_at is None:
        return ""
    return t.gettext("{start}–{end} (optional)").format(
        start=t.time(session.ends_at), end=t.time(session.after_talk_ends_at)
    )


def _place_text(t: Translator, session: Session) -> str:
    if session.place.casefold() == "teams":
        return t.gettext("Teams (the link is sent to those who register)")
    return session.place


def profile_card(
    t: Translator,
    series: Series,
    session: Session | None,
    person: Person,
    after_talk: bool,
    problem: str = "",
    view: str = verbs.VIEW_DETAILS,
    chosen: str | None = None,
    verified: str = "",
) -> Card:
    """First registration: who are you? Asked once and remembered. `chosen`: the choice sent with a form the
    server refused (e.g. "Other" with nothing written), kept as it was. `verified`: the organisation the
    person's Microsoft 365 tenant belongs to, shown and not asked. Without a session: for the whole series."""
    if session is None:
        body: list[Element] = [
            heading(t.gettext("Register for the whole series"), size="Medium"),
            text(cut(series.title, 200), spacing="Small"),
        ]
    else:
        body = [
            heading(t.gettext("Register for {title}").format(title=session_title(t, session)), size="Medium"),
            text(t.time_span(session.starts_at, session.ends_at), spacing="Small"),
        ]
    if verified:
        body.append(text(t.gettext("The first time, tell us your role. We remember it for the next sessions.")))
        body.append(facts([(t.gettext("Organisation"), verified)]))
        body.append(
            text(t.gettext("Your organisation comes from your Microsoft 365 account."), isSubtle=True, size="Small")
        )
    else:
        body.append(text(t.gettext("The first time, tell us where you work. We remember it for the next sessions.")))
    if problem:
        body.append(alert(problem))
    if not verified:
        body.extend(_organisation_inputs(t, series, person, chosen))
    body.append(
        text_input(
            verbs.ROLE,
            t.gettext("Your role"),
            value=person.role,
            placeholder=t.gettext("e.g. development strategist"),
            required=True,
            error=t.gettext("Tell us your role"),
            max_length=120,
        )
    )
    if session is not None and session.has_after_talk:
        body.append(toggle(verbs.AFTER_TALK, _after_talk_title(t, session), after_talk))
    submit = (
        (verbs.SERIES_REGISTER, {verbs.SERIES: series.id})
        if session is None
        else (verbs.REGISTER, {"session": session.id, verbs.VIEW: view})
    )
    actions = [
        execute(t.gettext("Register"), *submit, style="positive"),
        execute(t.gettext("Cancel"), verbs.SESSIONS),
    ]
    return card(body, actions)


def _organisation_inputs(t: Translator, series: Series, person: Person, chosen: str | None) -> list[Element]:
    choices = [(name, name) for name in series.organisations] + [(t.gettext("Other"), verbs.OTHER_ORGANISATION)]
    known = person.organisation in series.organisations
    return [
        choice_input(
            verbs.ORGANISATION,
            t.gettext("Organisation"),
            choices,
            value=chosen
            if chosen is not None
            else person.organisation
            if known
            else (verbs.OTHER_ORGANISATION if person.organisation else ""),
            required=True,
            error=t.gettext("Choose your organisation"),
        ),
        text_input(
            verbs.ORGANISATION_OTHER,
            t.gettext("If other: which organisation?"),
            value="" if known else person.organisation,
            max_length=120,
        ),
    ]


def cause_choices(t: Translator) -> list[tuple[str, str]]:
    """Why someone can't come, as they choose it: none invites health data."""
    labels = {
        "clash": t.gettext("Clashes with something else"),
        "travel": t.gettext("Travelling"),
        "other": t.gettext("Something else"),
    }
    return [(labels[cause], cause) for cause in verbs.CAUSES]


def absence_card(t: Translator, standing: SessionStanding, view: str = verbs.VIEW_DETAILS, page: int = 0) -> Card:
    session = standing.session
    body: list[Element] = [
        heading(t.gettext("Can't come?"), size="Medium"),
        text(session_title(t, session), weight="Bolder"),
        text(t.time_span(session.starts_at, session.ends_at), spacing="None"),
        text(t.gettext("The organisers are told, and your seat is freed for someone else.")),
        choice_input(verbs.CAUSE, t.gettext("Why can't you come?"), cause_choices(t), value=verbs.CAUSES[0]),
        text_input(
            verbs.REASON,
            t.gettext("Anything else the organisers should know? (optional)"),
            multiline=True,
            max_length=500,
        ),
        # No health details: the organisers do not need them, and the bot should not hold them.
        text(
            t.gettext("Please don't write about your health or anything else sensitive; it isn't needed."),
            isSubtle=True,
            size="Small",
            spacing="Small",
        ),
    ]
    actions = [
        execute(
            t.gettext("Can't come"),
            verbs.ABSENCE,
            {"session": session.id, verbs.VIEW: view, "page": page},
            style="destructive",
        ),
        execute(t.gettext("Back"), verbs.DETAILS, {"session": session.id}),
    ]
    return card(body, actions)


def join_link(t: Translator, standing: SessionStanding) -> list[Element]:
    """The meeting link, or word that it will come; only for those with a seat."""
    registration = standing.registration
    if registration is None or registration.status is not RegistrationStatus.REGISTERED:
        return []
    if standing.session.join_url:
        return [text(t.gettext("[Join the meeting in Teams]({url})").format(url=standing.session.join_url))]
    return [text(t.gettext("The Teams link will be sent to you before the session."), isSubtle=True)]


def which_card(t: Translator, standings: Sequence[SessionStanding], verb: str, now: datetime) -> Card:
    """A typed phrase that could mean several sessions, or none: which one, with a button each."""
    if not standings:
        body: list[Element] = [
            text(
                t.gettext("There is no session that fits just now."),
                weight="Bolder",
            )
        ]
        return card(
            body,
            [execute(t.gettext("All sessions"), verbs.SESSIONS), execute(t.gettext("My registrations"), verbs.MINE)],
        )
    body = [text(t.gettext("Which session do you mean?"), weight="Bolder", style="heading")]
    actions = [
        execute(f"{session_title(t, s.session)}, {t.short_date(s.session.starts_at)}", verb, {"session": s.session.id})
        for s in standings[:6]
    ]
    return card(body, actions)


def thanks_card(t: Translator) -> Card:
    body: list[Element] = [
        text(t.gettext("You're welcome!"), weight="Bolder"),
        text(t.gettext("Write “help” if you wonder about anything, or “sessions” to see what is coming.")),
    ]
    return card(body, [execute(t.gettext("All sessions"), verbs.SESSIONS), execute(t.gettext("Help"), verbs.HELP)])


def noted_card(t: Translator, standing: SessionStanding) -> Card:
    """The answer in the list or the welcome, where the click was made: what changed, in a line, and the way
    back. Not a second confirmation (that is the message below), and no list drawn again (that costs as much
    as asking for it)."""
    registration = standing.registration
    body: list[Element] = [heading(session_title(t, standing.session), size="Medium"), status_line(t, standing)]
    if registration is not None and registration.is_active:
        body.append(text(t.gettext("The confirmation comes in a message of its own, below."), isSubtle=True))
    actions = [execute(t.gettext("All sessions"), verbs.SESSIONS), execute(t.gettext("My registrations"), verbs.MINE)]
    return card(body, actions)


def confirmation_card(t: Translator, series: Series, standing: SessionStanding, now: datetime) -> Card:
    """What a person sees right after registering, reporting absence or withdrawing."""
    session = standing.session
    body: list[Element] = [
        heading(session_title(t, session), size="Medium"),
        text(t.time_span(session.starts_at, session.ends_at), spacing="Small"),
        status_line(t, standing),
    ]
    body.extend(join_link(t, standing))
    registration = standing.registration
    if registration is not None and registration.status is RegistrationStatus.WAITLISTED:
        body.append(text(t.gettext("You move up automatically when a seat frees, and we will tell you.")))
    actions = standing_actions(t, standing, now, details=False)
    actions.append(execute(t.gettext("All sessions"), verbs.SESSIONS))
    actions.append(execute(t.gettext("My registrations"), verbs.MINE))
    return kept_current(card(body, actions), verbs.STATUS, {"session": session.id})


def _place(t: Translator, standing: SessionStanding) -> list[Element]:
    """A session in a list of the person's places: which, when, and where they stand."""
    session = standing.session
    return [
        heading(session_title(t, session), size="Medium"),
        text(t.time_span(session.starts_at, session.ends_at), spacing="None"),
        status_line(t, standing),
    ]


def mine_card(t: Translator, standings: Sequence[SessionStanding], now: datetime, page: int = 0) -> Card:
    """A page at a time, like the list: someone in several series can hold dozens of places."""
    pages = max((len(standings) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 0), pages - 1)
    body: list[Element] = [heading(t.gettext("My registrations"))]
    if not standings:
        body.append(text(t.gettext("You have no registrations for coming sessions.")))
    for standing in standings[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        buttons = action_set(standing_actions(t, standing, now, details=True, view=verbs.VIEW_MINE, page=page))
        body.append(container([*_place(t, standing), buttons], separator=True))
    body.extend(page_note(t, page, pages, size="Small"))
    actions = page_buttons(t, page, pages, verbs.MINE)
    actions += [execute(t.gettext("All sessions"), verbs.SESSIONS), language_switch(t.language.value)]
    return kept_current(card(body, actions), verbs.MINE, {"page": page})


SERIES_SESSIONS_SHOWN = 10  # the series card lists this many coming sessions; the list pages through all


def whole_series(t: Translator, series: Series, registered: bool, *, named: bool = False) -> list[Element]:
    """A line and a button for the whole series, on the welcome, the list and the details. `named`: say which
    series, where a card shows several."""
    title = cut(series.title, 80)
    tooltip = title if named else ""
    show = execute(t.gettext("About the whole series"), verbs.SERIES_STATUS, {verbs.SERIES: series.id}, tooltip=tooltip)
    if registered:
        line = (
            t.gettext("✅ You are registered for the whole series {title}.").format(title=title)
            if named
            else t.gettext("✅ You are registered for the whole series.")
        )
        return [text(line, spacing="Medium"), action_set([show])]
    line = (
        t.gettext("Want to come to every session of {title}?").format(title=title)
        if named
        else t.gettext("Want to come to every session?")
    )
    return [text(line, spacing="Medium"), action_set([_join_series(t, series, tooltip), show])]


def _join_series(t: Translator, series: Series, tooltip: str = "") -> Element:
    data = {verbs.SERIES: series.id}
    return execute(t.gettext("Register for the whole series"), verbs.SERIES_REGISTER, data, style="positive",
                   tooltip=tooltip)  # fmt: skip


def series_card(
    t: Translator,
    series: Series,
    registered: bool,
    standings: Sequence[SessionStanding],
    now: datetime,
    notice: str = "",
) -> Card:
    """A whole series as the person stands in it: registered for all of it or not, and each coming session."""
    body: list[Element] = [
        heading(cut(series.title, 200)),
        text(cut(series.organiser, 200), isSubtle=True, spacing="None"),
    ]
    if notice:
        body.append(text(notice, weight="Bolder"))
    if registered:
        body.append(
            text(
                t.gettext(
                    "✅ You are registered for the whole series. I register you for each new session when it is "
                    "published, and you get a confirmation each time."
                )
            )
        )
        body.append(
            text(
                t.gettext("Can't come to one of them? Tell us for that session; the rest still stand."),
                isSubtle=True,
            )
        )
    else:
        body.append(
            text(
                t.gettext(
                    "Register for the whole series and you get a place in every coming session, and in each new "
                    "one when it is published. Where a session is full, you join its waiting list."
                )
            )
        )
    if not standings:
        body.append(text(t.gettext("No sessions are open at the moment."), isSubtle=True))
    body.extend(container(_place(t, standing), separator=True) for standing in standings[:SERIES_SESSIONS_SHOWN])
    if len(standings) > SERIES_SESSIONS_SHOWN:
        body.append(text(t.gettext("The rest are under “All sessions”."), isSubtle=True))
    data = {verbs.SERIES: series.id}
    actions = (
        [execute(t.gettext("Leave the series"), verbs.SERIES_LEAVE, data)]  # places held stay: nothing is lost
        if registered
        else [_join_series(t, series)]
    )
    actions += [execute(t.gettext("My registrations"), verbs.MINE), execute(t.gettext("All sessions"), verbs.SESSIONS)]
    return kept_current(card(body, actions), verbs.SERIES_STATUS, data)


def series_choice_card(t: Translator, series: Sequence[Series]) -> Card:
    """A typed "whole series" where there are several: which one."""
    body: list[Element] = [heading(t.gettext("Which series?"), size="Medium")]
    buttons = [execute(cut(s.title, 80), verbs.SERIES_STATUS, {verbs.SERIES: s.id}) for s in series[:6]]
    body.append(action_set(buttons))
    return card(body, [execute(t.gettext("All sessions"), verbs.SESSIONS)])
