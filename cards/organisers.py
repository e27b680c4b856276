"""Cards for organisers: the session form, a session's page, participant lists, statistics, the audit log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.domain import organising as f
from bot.domain import series_form as sf
from bot.domain.meetings import AttendanceSummary, Meeting, MeetingMode
from bot.domain.model import Language, Series, Session, SessionStatus
from bot.domain.organising import Entry, ParticipantList, SessionForm
from bot.domain.series_form import SeriesForm
from bot.domain.views import AuditEntry, Feedback, SessionCounts
from bot.i18n import Translator
from cards import verbs
from cards.elements import (
    Card,
    Element,
    alert,
    card,
    choice_input,
    container,
    cut,
    execute,
    facts,
    heading,
    open_url,
    plain,
    text,
    text_input,
)
from cards.paging import page_buttons, page_note
from cards.sessions import session_title

PARTICIPANTS_PAGE = 25


def _field_label(t: Translator, field: str) -> str:
    return {
        f.TITLE: t.gettext("Title or theme"),
        f.DATE: t.gettext("Date"),
        f.START: t.gettext("Starts"),
        f.END: t.gettext("Ends"),
        f.AFTER_TALK_END: t.gettext("After-talk ends (optional)"),
        f.DEADLINE: t.gettext("Registration deadline (default: a week before)"),
        f.CAPACITY: t.gettext("Seats (empty: no limit)"),
        f.PLACE: t.gettext("Place"),
        f.GUEST: t.gettext("Invited guest"),
        f.DESCRIPTION: t.gettext("Description"),
        f.PROGRAMME: t.gettext("Programme: one item a line, “Title | Speakers”"),
    }[field]


def problem_text(t: Translator, field: str, code: str) -> str:
    """A form's problem (the session's or the series' form), its field named as the form labels it."""
    messages = {
        "missing": t.gettext("{field}: please fill this in."),
        "bad_date": t.gettext("{field}: write the date as YYYY-MM-DD."),
        "bad_time": t.gettext("{field}: write the time as HH:MM."),
        "bad_number": t.gettext("{field}: a whole number from 1 to 10,000."),
        "below_registered": t.gettext("{field}: more people have already registered than that."),
        "end_before_start": t.gettext("{field}: the session must end after it starts."),
        "in_the_past": t.gettext("{field}: the session must lie in the future."),
        "after_talk_before_end": t.gettext("{field}: the after-talk must end after the session."),
        "deadline_after_start": t.gettext("{field}: the deadline must not be after the session."),
        "too_long": t.gettext("{field}: that is too long; please shorten it."),
        "too_many": t.gettext("{field}: at most 40 organisations of 120 characters each, and 8 contacts."),
        "bad_contact": t.gettext("{field}: each line starts with a name; an e-mail address needs an @."),
    }
    label = _series_label(t, field) if field.startswith("series_") else _field_label(t, field)
    return messages.get(code, t.gettext("{field}: please check this.")).format(field=label.split(" (")[0].split(",")[0])


def _series_label(t: Translator, field: str) -> str:
    return {
        sf.TITLE: t.gettext("Name of the series"),
        sf.ORGANISER: t.gettext("Organised by"),
        sf.LANGUAGE: t.gettext("Language"),
        sf.DESCRIPTION: t.gettext("About the series"),
        sf.TARGET_GROUP: t.gettext("Target group"),
        sf.ORGANISATIONS: t.gettext("Organisations to choose from when registering (one a line)"),
        sf.CONTACTS: t.gettext("Contacts, one a line: Name | organisation | role | e-mail | phone"),
        sf.FEE: t.gettext("Fee (empty: none)"),
    }[field]


def series_form_card(
    t: Translator, form: SeriesForm, *, editing: bool, problems: Sequence[tuple[str, str]] = ()
) -> Card:
    """The series' own text, as the participants read it on the welcome and the details; the channel it is
    made in becomes its organisers' channel."""
    title = t.gettext("Edit the series") if editing else t.gettext("New series")
    body: list[Element] = [heading(title, size="Medium")]
    if not editing:
        body.append(
            text(
                t.gettext(
                    "This channel becomes the series' organisers' channel, and you its first organiser. "
                    "Sessions are added with “new session” once it is made."
                ),
                isSubtle=True,
                spacing="None",
            )
        )
    if problems:
        body.append(container([alert(problem_text(t, field, code)) for field, code in problems]))
    languages = [("Svenska", Language.SV.value), ("English", Language.EN.value)]
    body += [
        text_input(sf.TITLE, _series_label(t, sf.TITLE), value=form.title, required=True,
                   error=t.gettext("A name is needed"), max_length=sf.TITLE_LENGTH),
        text_input(sf.ORGANISER, _series_label(t, sf.ORGANISER), value=form.organiser, required=True,
                   error=t.gettext("Say who organises it"), max_length=sf.TITLE_LENGTH,
                   placeholder=t.gettext("e.g. Norrbottens Kommuner")),
        choice_input(sf.LANGUAGE, _series_label(t, sf.LANGUAGE), languages, value=form.language, required=True,
                     error=t.gettext("Choose a language")),
        text_input(sf.DESCRIPTION, _series_label(t, sf.DESCRIPTION), value=form.description, multiline=True,
                   max_length=sf.DESCRIPTION_LENGTH),
        text_input(sf.TARGET_GROUP, _series_label(t, sf.TARGET_GROUP), value=form.target_group, multiline=True,
                   max_length=sf.TARGET_GROUP_LENGTH),
        text_input(sf.ORGANISATIONS, _series_label(t, sf.ORGANISATIONS), value=form.organisations,
                   multiline=True, max_length=6000),
        text_input(sf.CONTACTS, _series_label(t, sf.CONTACTS), value=form.contacts, multiline=True,
                   max_length=3000),
        text_input(sf.FEE, _series_label(t, sf.FEE), value=form.fee, max_length=200),
    ]  # fmt: skip
    verb = verbs.ORG_SERIES_SAVE if editing else verbs.ORG_SERIES_CREATE
    save = t.gettext("Save changes") if editing else t.gettext("Create the series")
    return card(body, [execute(save, verb, style="positive")])


def series_saved_card(t: Translator, series: Series, *, created: bool) -> Card:
    notice = t.gettext("The series is created.") if created else t.gettext("Changes saved.")
    body: list[Element] = [
        heading(cut(series.title, 200), size="Medium"),
        text(notice, weight="Bolder", spacing="None"),
        facts(
            [
                (t.gettext("Organised by"), cut(series.organiser, 200)),
                (t.gettext("Language"), "Svenska" if series.language is Language.SV else "English"),
                (t.gettext("Organisations"), str(len(series.organisations))),
                (t.gettext("Contacts"), str(len(series.contacts))),
            ]
        ),
    ]
    if created:
        body.append(
            text(
                t.gettext(
                    "Next: add its sessions with “new session”, and other organisers with “add organiser @name”. "
                    "Participants see the series once a session is published."
                )
            )
        )
    actions = [
        execute(t.gettext("New session"), verbs.ORG_NEW_SESSION),
        execute(t.gettext("Edit the series"), verbs.ORG_SERIES_EDIT),
        execute(t.gettext("Organiser commands"), verbs.ORG_HELP),
    ]
    return card(body, actions)


def session_form_card(
    t: Translator,
    form: SessionForm,
    number: int | None,
    problems: Sequence[tuple[str, str]] = (),
    copy_of: int | None = None,
) -> Card:
    """`number`: the session edited, None for a new one; `copy_of`: the session a new one is copied from."""
    title = t.gettext("Edit session {number}").format(number=number) if number else t.gettext("New session")
    body: list[Element] = [heading(title, size="Medium")]
    if copy_of and not number:
        copy_note = t.gettext(
            "A copy of session {number}: the same programme and times, a week later. Change what differs; "
            "it is saved as a draft."
        )
        body.append(text(copy_note.format(number=copy_of), isSubtle=True, spacing="None"))
    if problems:
        body.append(container([alert(problem_text(t, field, code)) for field, code in problems]))
    body += [
        text_input(f.TITLE, _field_label(t, f.TITLE), value=form.title, required=True,
                   error=t.gettext("A title is needed"), max_length=300),
        {"type": "Input.Date", "id": f.DATE, "label": _field_label(t, f.DATE), "value": form.date,
         "isRequired": True, "errorMessage": t.gettext("A date is needed")},
        {"type": "ColumnSet", "columns": [
            {"type": "Column", "width": "stretch", "items": [
                {"type": "Input.Time", "id": f.START, "label": _field_label(t, f.START), "value": form.start,
                 "isRequired": True, "errorMessage": t.gettext("A start time is needed")}]},
            {"type": "Column", "width": "stretch", "items": [
                {"type": "Input.Time", "id": f.END, "label": _field_label(t, f.END), "value": form.end,
                 "isRequired": True, "errorMessage": t.gettext("An end time is needed")}]},
            {"type": "Column", "width": "stretch", "items": [
                {"type": "Input.Time", "id": f.AFTER_TALK_END, "label": _field_label(t, f.AFTER_TALK_END),
                 "value": form.after_talk_end}]},
        ]},
        {"type": "Input.Date", "id": f.DEADLINE, "label": _field_label(t, f.DEADLINE), "value": form.deadline},
        {"type": "Input.Number", "id": f.CAPACITY, "label": _field_label(t, f.CAPACITY), "min": 1, "max": 10_000,
         **({"value": int(form.capacity)} if form.capacity.isdigit() else {})},
        text_input(f.PLACE, _field_label(t, f.PLACE), value=form.place, max_length=200),
        text_input(f.GUEST, _field_label(t, f.GUEST), value=form.guest, max_length=300),
        text_input(f.DESCRIPTION, _field_label(t, f.DESCRIPTION), value=form.description, multiline=True,
                   max_length=4000),
        text_input(f.PROGRAMME, _field_label(t, f.PROGRAMME), value=form.programme, multiline=True,
                   max_length=4000),
    ]  # fmt: skip
    save = t.gettext("Save changes") if number else t.gettext("Create draft")
    return card(body, [execute(save, verbs.ORG_SAVE, {verbs.NUMBER: number or 0}, style="positive")])


def _meeting_text(t: Translator, session: Session, meeting: Meeting | None) -> str:
    """Where the session's Teams meeting stands, as far as the bot knows."""
    if meeting is None or meeting.mode is MeetingMode.MANUAL or session.status is not SessionStatus.PUBLISHED:
        if session.join_url and meeting is not None and meeting.mode is MeetingMode.MANUAL:
            return t.gettext("set by hand")
        return t.gettext("set") if session.join_url else t.gettext("not set yet")
    if meeting.event_id is None:
        if meeting.problem:
            return t.gettext("not created: see the message in this channel, then write “meeting {number}”").format(
                number=session.number
            )
        return t.gettext("being created in the organisers' calendar")
    if meeting.attendees_version > meeting.attendees_synced or meeting.retry_at is not None:
        return t.gettext("Teams meeting in the organisers' calendar; invitations being brought up to date")
    return t.gettext("Teams meeting in the organisers' calendar; everyone registered is invited")


def session_admin_card(
    t: Translator, session: Session, counts: SessionCounts, notice: str = "", meeting: Meeting | None = None
) -> Card:
    """One session as organisers see it, with what they can do next."""
    status = {
        SessionStatus.DRAFT: t.gettext("Draft: not visible to participants"),
        SessionStatus.PUBLISHED: t.gettext("Published"),
        SessionStatus.CANCELLED: t.gettext("Cancelled"),
    }[session.status]
    body: list[Element] = []
    if notice:
        body.append(text(notice, weight="Bolder"))
    body += [
        heading(session_title(t, session), size="Medium"),
        text(t.time_span(session.starts_at, session.ends_at), spacing="Small"),
        facts(
            [
                (t.gettext("Status"), status),
                (
                    t.gettext("Registration"),
                    t.gettext("by {date}").format(date=t.moment(session.registration_deadline)),
                ),
                (t.gettext("Registered"), _seats(t, session, counts)),
                (t.gettext("Waiting list"), str(counts.waitlisted)),
                (t.gettext("Absent"), str(counts.absent)),
                (t.gettext("After-talk"), str(counts.after_talk) if session.has_after_talk else ""),
                (t.gettext("Meeting link"), _meeting_text(t, session, meeting)),
                (t.gettext("Reason"), session.cancel_reason),
            ]
        ),
    ]
    data = {verbs.NUMBER: session.number}
    actions: list[Element] = []
    if session.status is SessionStatus.DRAFT:
        actions.append(execute(t.gettext("Publish"), verbs.ORG_PUBLISH, data, style="positive"))
    if session.status is not SessionStatus.CANCELLED:
        actions.append(execute(t.gettext("Edit"), verbs.ORG_EDIT, data))
    # Six at most (Teams shows no more): a draft has no participants and no feedback yet.
    if session.status is not SessionStatus.DRAFT:
        actions.append(execute(t.gettext("Participants"), verbs.ORG_PARTICIPANTS, data))
    actions.append(execute(t.gettext("Export"), verbs.ORG_EXPORT, data))
    if session.status is not SessionStatus.DRAFT:
        actions.append(execute(t.gettext("Feedback"), verbs.ORG_FEEDBACK, data))
    actions.append(execute(t.gettext("Copy"), verbs.ORG_COPY, data))
    if session.status is not SessionStatus.CANCELLED:
        actions.append(execute(t.gettext("Cancel session"), verbs.ORG_CANCEL_FORM, data, style="destructive"))
    return card(body, actions)


def _back_to_session(t: Translator, session: Session) -> Element:
    return execute(t.gettext("Show session {number}").format(number=session.number), verbs.ORG_SESSION,
                   {verbs.NUMBER: session.number})  # fmt: skip


def _seats(t: Translator, session: Session, counts: SessionCounts) -> str:
    if session.capacity is None:
        return str(counts.registered)
    return t.gettext("{registered} of {capacity}").format(registered=counts.registered, capacity=session.capacity)


def cancel_form_card(t: Translator, session: Session) -> Card:
    body: list[Element] = [
        heading(t.gettext("Cancel {title}?").format(title=session_title(t, session)), size="Medium"),
        text(t.gettext("Everyone registered or on the waiting list is told, with your reason.")),
        text_input(verbs.TEXT, t.gettext("Reason"), required=True, error=t.gettext("Give a reason"), multiline=True,
                   max_length=500),
    ]  # fmt: skip
    actions = [
        execute(t.gettext("Cancel the session"), verbs.ORG_CANCEL, {verbs.NUMBER: session.number}, style="destructive"),
        execute(t.gettext("Back"), verbs.ORG_SESSION, {verbs.NUMBER: session.number}),
    ]
    return card(body, actions)


def _person_line(
    t: Translator, entry: Entry, position: int | None = None, verified: bool = False, whole_series: bool = False
) -> str:
    person, registration = entry.person, entry.registration
    name = t.gettext("(data deleted)") if person.erased else person.name or "–"
    organisation = f"{person.organisation} ✓" if verified and person.organisation else person.organisation
    parts = [name, organisation, person.role]
    line = " · ".join(p for p in parts if p)
    if position is not None:
        line = f"{position}. {line}"
    if registration.after_talk and registration.status.value == "registered":
        line += " · " + t.gettext("after-talk")
    if whole_series:
        line += " · " + t.gettext("whole series")
    if registration.absence_reason:
        line += " · " + t.gettext("“{reason}”").format(reason=registration.absence_reason)
    return line


def participants_card(
    t: Translator,
    session: Session,
    people: ParticipantList,
    page: int = 0,
    verified: frozenset[int] = frozenset(),
    whole_series: frozenset[int] = frozenset(),
) -> Card:
    """`verified`: the people whose organisation their Microsoft 365 tenant vouches for, marked ✓.
    `whole_series`: the people registered for the whole series."""
    sections: list[tuple[str, Sequence[Entry], bool]] = [
        (t.gettext("Registered"), people.registered, False),
        (t.gettext("Waiting list, in order"), people.waitlisted, True),
        (t.gettext("Absent"), people.absent, False),
        (t.gettext("Withdrawn"), people.withdrawn, False),
    ]
    lines: list[tuple[str, str]] = []  # (section, line), flattened so that pages cut anywhere
    for title, entries, numbered in sections:
        for i, entry in enumerate(entries, start=1):
            mark = entry.person.id in verified, entry.person.id in whole_series
            line = _person_line(t, entry, i if numbered else None, *mark)
            attended = people.attended(entry) if entry.registration.holds_seat else None
            if attended is not None:
                line += " · " + (t.gettext("attended") if attended else t.gettext("did not attend"))
                if attended and people.matched_by_name(entry):
                    line += " " + t.gettext("(uncertain: matched by name)")
            lines.append((title, line))
    for record in people.unregistered_attendees:
        lines.append(
            (
                t.gettext("Attended without registering"),
                " · ".join(x for x in (record.name, record.email) if x) or t.gettext("(data deleted)"),
            )
        )
    pages = max((len(lines) + PARTICIPANTS_PAGE - 1) // PARTICIPANTS_PAGE, 1)
    page = min(max(page, 0), pages - 1)
    body: list[Element] = [
        heading(t.gettext("Participants: {title}").format(title=session_title(t, session)), size="Medium"),
        text(t.time_span(session.starts_at, session.ends_at), spacing="None", isSubtle=True),
        facts(
            [
                (t.gettext("Registered"), str(len(people.registered))),
                (t.gettext("Waiting list"), str(len(people.waitlisted))),
                (t.gettext("Absent"), str(len(people.absent))),
                (t.gettext("Withdrawn"), str(len(people.withdrawn))),
                (t.gettext("After-talk"), str(people.after_talk) if session.has_after_talk else ""),
                (t.gettext("Whole series"), str(len(whole_series)) if whole_series else ""),
            ]
        ),
    ]
    if verified:
        body.append(text(t.gettext("✓ the organisation comes from the person's Microsoft 365 account"), isSubtle=True))
    summary = people.attendance_summary
    if summary is not None:
        body.append(text(t.gettext("Attendance, from the Teams meeting"), weight="Bolder"))
        body.append(text(_attendance_line(t, summary), spacing="None"))
    if page == 0 and people.registered:
        body.append(text(t.gettext("Registered per organisation"), weight="Bolder"))
        body.extend(plain(f"{org}: {n}", spacing="None") for org, n in people.per_organisation())
    current = ""
    for section, line in lines[page * PARTICIPANTS_PAGE : (page + 1) * PARTICIPANTS_PAGE]:
        if section != current:
            body.append(text(section, weight="Bolder", size="Medium", separator=True))
            current = section
        body.append(plain(line, spacing="None"))
    if not lines:
        body.append(text(t.gettext("Nobody has registered yet.")))
    body.extend(page_note(t, page, pages))
    data = {verbs.NUMBER: session.number}
    actions = page_buttons(t, page, pages, verbs.ORG_PARTICIPANTS, data)
    actions.append(execute(t.gettext("Export"), verbs.ORG_EXPORT, data))
    actions.append(_back_to_session(t, session))
    return card(body, actions)


ORGANISATIONS_SHOWN = 30  # "Other" lets participants name their own: the list has no end of its own


def stats_card(t: Translator, series: Series, sessions: Sequence[tuple[Session, SessionCounts]],
               per_organisation: Sequence[tuple[str, int]],
               attendance: Mapping[int, AttendanceSummary] | None = None, whole_series: int = 0,
               picture: str = "") -> Card:  # fmt: skip
    """A line of words per session rather than a table: five narrow columns break "Väntelista" mid-word on a
    400 px card and on phones, while a line wraps between words. Drafts and cancelled sessions apart, so the
    published ones read as the series' figures."""
    groups: list[tuple[str, list[Element]]] = [
        (t.gettext("Published sessions"), []),
        (t.gettext("Drafts"), []),
        (t.gettext("Cancelled sessions"), []),
    ]
    index = {SessionStatus.PUBLISHED: 0, SessionStatus.DRAFT: 1, SessionStatus.CANCELLED: 2}
    for session, counts in sessions:
        figures = [t.ngettext("{n} registered", "{n} registered", counts.registered).format(n=counts.registered)]
        if counts.waitlisted:
            figures.append(t.gettext("{n} on the waiting list").format(n=counts.waitlisted))
        if counts.absent:
            figures.append(t.ngettext("{n} can't come", "{n} can't come", counts.absent).format(n=counts.absent))
        if session.has_after_talk:
            figures.append(t.gettext("{n} staying for the after-talk").format(n=counts.after_talk))
        # Two lines, no container around them: a 39-session series must still fit in 28 KB with its picture.
        groups[index[session.status]][1].extend([
            text(t.gettext("Session {number}, {date}").format(
                number=session.number, date=t.date(session.starts_at)), weight="Bolder", spacing="Small"),
            text(" · ".join(figures), spacing="None"),
        ])  # fmt: skip
    body: list[Element] = [heading(t.gettext("Statistics: {title}").format(title=series.title), size="Medium")]
    body.append(
        text(
            t.ngettext(
                "{n} person registered for the whole series",
                "{n} people registered for the whole series",
                whole_series,
            ).format(n=whole_series),
            spacing="None",
        )
    )
    if picture:  # bars of the figures below (bot/chart.py), drawn by every Teams client
        alt = t.gettext("Bars of registered places per session and per organisation; the figures are written below.")
        body.append({"type": "Image", "url": picture, "altText": alt, "size": "Stretch", "spacing": "Medium"})
    for title, lines in groups:
        if lines:
            body.append(heading(title, size="Default"))
            body.extend(lines)
    if not sessions:
        body.append(text(t.gettext("No sessions yet.")))
    body.append(heading(t.gettext("Registered places per organisation"), size="Default"))
    shown = per_organisation[:ORGANISATIONS_SHOWN]
    body.extend([plain(f"{cut(org, 60)}: {n}", spacing="None") for org, n in shown] or [text("–")])
    if len(per_organisation) > len(shown):
        rest = len(per_organisation) - len(shown)
        body.append(text(t.gettext("… and {n} more: the export has them all.").format(n=rest), isSubtle=True))
    if attendance:
        body.append(heading(t.gettext("Attendance, from the Teams meetings"), size="Default"))
        body.append(facts([(_session_number(t, s), _attendance_line(t, attendance[s.id]))
                           for s, _ in sessions if s.id in attendance]))  # fmt: skip
    return card(body, [execute(t.gettext("Export the series"), verbs.ORG_EXPORT)])


def _session_number(t: Translator, session: Session) -> str:
    return t.gettext("Session {number}").format(number=session.number)


def _attendance_line(t: Translator, summary: AttendanceSummary) -> str:
    return t.gettext(
        "{attended} attended · {no_show} registered but absent · {unregistered} without registering"
    ).format(attended=summary.attended, no_show=summary.no_show, unregistered=summary.unregistered)


def _audit_action(t: Translator, action: str) -> str:
    return {
        "create": t.gettext("created"),
        "edit": t.gettext("changed"),
        "publish": t.gettext("published"),
        "cancel": t.gettext("cancelled"),
        "link": t.gettext("set the meeting link of"),
        "message": t.gettext("sent a message about"),
        "export": t.gettext("exported"),
        "add_organiser": t.gettext("added the organiser"),
        "remove_organiser": t.gettext("removed the organiser"),
        "bind_channel": t.gettext("chose this channel for"),
        "meeting": t.gettext("asked for the Teams meeting of"),
        "erase_participant": t.gettext("deleted a participant's data"),
        "create_series": t.gettext("created the series"),
        "edit_series": t.gettext("changed the series"),
    }.get(action, action)


def audit_card(t: Translator, entries: Sequence[AuditEntry]) -> Card:
    body: list[Element] = [heading(t.gettext("Latest organiser actions"), size="Medium")]
    if not entries:
        body.append(text(t.gettext("Nothing yet.")))
    for entry in entries:
        what = _audit_action(t, entry.action)
        who = entry.actor_name or entry.actor_aad_object_id
        subject = entry.subject
        if subject.startswith("session ") and subject[8:].isdigit():
            subject = t.gettext("session {number}").format(number=subject[8:])
        line = f"{t.short_date(entry.at)} {t.time(entry.at)} · {who} {what} {subject}".rstrip()
        body.append(text(line, spacing="Small"))
    return card(body)


def organisers_card(t: Translator, organisers: Sequence[tuple[str, str]]) -> Card:
    """(object id, name or "") of each organiser."""
    body: list[Element] = [heading(t.gettext("Organisers"), size="Medium")]
    for aad, name in organisers:
        body.append(text(f"{name} · {aad}" if name else aad, spacing="Small"))
    body.append(
        text(
            t.gettext(
                "Add or remove with “add organiser @name” / “remove organiser @name”, mentioning a member of the "
                "team, or with their Entra object id instead of @name."
            ),
            isSubtle=True,
        )
    )
    return card(body)


def notice_card(t: Translator, message: str, session: Session | None = None) -> Card:
    actions = [_back_to_session(t, session)] if session else []
    return card([text(message, weight="Bolder")], actions)


def export_card(t: Translator, url: str, expires: datetime, session: Session | None = None) -> Card:
    """The download link, naming what it holds: one session, or the whole series."""
    what = session_title(t, session) if session else t.gettext("The whole series")
    body: list[Element] = [
        heading(t.gettext("Export ready"), size="Medium"),
        text(what, weight="Bolder", spacing="Small"),
        text(t.gettext("The link works until {time} for anyone who has it – do not forward it.").format(
            time=t.time(expires))),
    ]  # fmt: skip
    return card(body, [open_url(t.gettext("Download Excel file"), url)])


def organiser_help_card(t: Translator, *, problem: bool = False) -> Card:
    rows = [
        (t.gettext("new series"), t.gettext("a new series, run from the channel where you write it")),
        (t.gettext("edit series"), t.gettext("the series' name, text, organisations and contacts")),
        (t.gettext("new session"), t.gettext("a form for a new session (saved as a draft)")),
        (t.gettext("edit 3"), t.gettext("change session 3")),
        (t.gettext("copy 3"), t.gettext("a new session with session 3's programme, a week later, to edit")),
        (t.gettext("publish 3"), t.gettext("show session 3 to participants and announce it")),
        (t.gettext("cancel 3 <reason>"), t.gettext("cancel session 3 and tell those registered")),
        (t.gettext("participants 3"), t.gettext("who comes, the waiting list, absences with reasons")),
        (t.gettext("export 3 / export"), t.gettext("an Excel file of session 3 or of the whole series")),
        (t.gettext("message 3 <text>"), t.gettext("a message to everyone registered for session 3")),
        (t.gettext("link 3 <Teams link>"), t.gettext("set the meeting link of session 3")),
        (t.gettext("meeting 3"), t.gettext("create or refresh session 3's Teams meeting in the organisers' calendar")),
        (t.gettext("stats"), t.gettext("numbers per session and organisation")),
        (t.gettext("feedback 3"), t.gettext("what participants said about session 3, without names")),
        (t.gettext("suggestions"), t.gettext("themes and questions participants suggest for coming sessions")),
        (t.gettext("audit"), t.gettext("the latest organiser actions")),
        (t.gettext("organisers"), t.gettext("who may organise; add organiser / remove organiser @name or <id>")),
        (t.gettext("use this channel"), t.gettext("take organiser commands in this channel")),
    ]
    body: list[Element] = []
    if problem:
        body.append(
            alert(t.gettext("I could not read that command. The session number comes first, e.g. “publish 3”."))
        )
    body += [
        heading(t.gettext("Organiser commands"), size="Medium"),
        text(t.gettext("Mention me in the organisers' channel, or write to me in a 1:1 chat."), isSubtle=True),
    ]
    # TextRuns, not Markdown: Teams strips "<reason>" from a TextBlock or a fact as if it were an HTML tag.
    body += [_command_line(command, description) for command, description in rows]
    return card(
        body,
        [execute(t.gettext("New session"), verbs.ORG_NEW_SESSION), execute(t.gettext("Statistics"), verbs.ORG_STATS)],
    )


def _command_line(command: str, description: str) -> Element:
    return {
        "type": "RichTextBlock",
        "spacing": "Small",
        "inlines": [
            {"type": "TextRun", "text": command, "weight": "Bolder"},
            {"type": "TextRun", "text": " – " + description},
        ],
    }


def feedback_card(t: Translator, session: Session, answers: Sequence[Feedback]) -> Card:
    body: list[Element] = [
        heading(t.gettext("Feedback: {title}").format(title=session_title(t, session)), size="Medium")
    ]
    if not answers:
        body.append(
            text(
                t.gettext("No answers yet. “How was the session?” goes to those registered when the session has ended.")
            )
        )
        return card(body)
    average = sum(a.rating for a in answers) / len(answers)
    body.append(
        text(
            t.ngettext("{average} of 5, {n} answer", "{average} of 5, {n} answers", len(answers)).format(
                average=t.decimal(average), n=len(answers)
            ),
            weight="Bolder",
        )
    )
    body.append(facts([("★" * r, str(sum(1 for a in answers if a.rating == r))) for r in range(5, 0, -1)]))
    comments = [a for a in answers if a.comment]
    if comments:
        body.append(text(t.gettext("Comments"), weight="Bolder"))
        body.extend(plain(f"{a.rating} · {a.comment}", spacing="Small") for a in comments[-30:])
    return card(body, [_back_to_session(t, session)])
