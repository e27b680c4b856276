"""A person's data: what is kept about them, its download, and its erasure; the organisers' erasure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.privacy import Candidate, Erasure, PersonalData
from bot.i18n import Translator
from cards import verbs
from cards.elements import Card, Element, action_set, card, container, execute, heading, open_url, plain, text
from cards.sessions import status_label

# Rows of each kind shown on the card, and characters of each text; the files hold all. Keeps the card below
# Teams' 28 KB whatever was typed (a test builds the worst case).
SHOWN = 10
CUT = 160


def _short(value: str) -> str:
    return value if len(value) <= CUT else value[: CUT - 1].rstrip() + "…"


def _field(label: str, value: str) -> Element:
    """A label and what someone typed or Teams gave: the value as plain text, never as Markdown."""
    return plain(f"{label}: ", value or "–", spacing="None")


def _section(title: str, lines: list[Element], total: int, t: Translator) -> Element:
    items: list[Element] = [heading(title, size="Default")]
    items += lines or [text(t.gettext("Nothing."), isSubtle=True, spacing="None")]
    if total > SHOWN:
        more = t.ngettext("…and {n} more, in the files.", "…and {n} more, in the files.", total - SHOWN)
        items.append(text(more.format(n=total - SHOWN), isSubtle=True, spacing="None"))
    return container(items, separator=True, spacing="Medium")


def my_data_card(t: Translator, data: PersonalData, download_url: str, expires: datetime, privacy_url: str) -> Card:
    language = {"sv": "svenska", "en": "English"}.get(data.language or "", t.gettext("as Teams is set"))
    profile: list[Element] = [
        _field(t.gettext("Name"), data.name),
        _field(t.gettext("E-mail"), data.email),
        _field(t.gettext("Organisation"), data.organisation),
        _field(t.gettext("Role"), data.role),
        _field(t.gettext("Language"), language),
        _field(
            t.gettext("News of sessions"),
            t.gettext("no, thank you") if data.announcements_opt_out else t.gettext("yes"),
        ),
        _field(t.gettext("First contact"), t.date(data.first_seen)),
    ]
    registrations = [
        plain(
            f"{_short(r.series)} {r.session_number}, {t.short_date(r.starts_at)}: {status_label(t, r.status)}",
            f" – {_short(r.reason)}" if r.reason else "",
            spacing="None",
        )
        for r in data.registrations[:SHOWN]
    ]
    suggestions = [
        plain(f"{t.short_date(s.given_at)}: ", _short(s.text), spacing="None") for s in data.suggestions[:SHOWN]
    ]
    feedback = [
        plain(
            t.gettext("Session {number}: {rating} of 5").format(number=f.session_number, rating=f.rating),
            f" – {_short(f.comment)}" if f.comment else "",
            spacing="None",
        )
        for f in data.feedback[:SHOWN]
    ]
    attendance = [
        text(
            t.ngettext(
                "Session {number}, {date}: {n} minute", "Session {number}, {date}: {n} minutes", a.minutes
            ).format(number=a.session_number, date=t.short_date(a.starts_at), n=a.minutes),
            spacing="None",
        )
        for a in data.attendance[:SHOWN]
    ]
    body: list[Element] = [
        heading(t.gettext("My data"), size="Large"),
        text(
            t.gettext(
                "This is everything Lärträff keeps about you. The organisers of the series see your name, "
                "organisation, role and registrations, to plan the sessions and report how many took part."
            )
        ),
        container(profile, separator=True, spacing="Medium"),
        _section(t.gettext("Registrations"), registrations, len(data.registrations), t),
        _section(t.gettext("Theme suggestions"), suggestions, len(data.suggestions), t),
        _section(t.gettext("Your answers to “how was the session?”"), feedback, len(data.feedback), t),
        _section(t.gettext("Attendance, from the Teams meetings"), attendance, len(data.attendance), t),
    ]
    if data.whole_series:
        registered = ", ".join(data.whole_series)
        body.append(text(t.gettext("You are registered for the whole series: {series}").format(series=registered)))
    if data.organiser_of:
        body.append(text(t.gettext("You are an organiser of: {series}").format(series=", ".join(data.organiser_of))))
    body.append(
        text(
            t.gettext("The download links work until {time}, only for whoever has them.").format(time=t.time(expires)),
            isSubtle=True,
        )
    )
    actions: list[Element] = [
        open_url(t.gettext("Download (Excel)"), f"{download_url}.xlsx"),
        open_url(t.gettext("Download (JSON)"), f"{download_url}.json"),
        execute(t.gettext("Delete my data"), verbs.ERASE_ASK),
        open_url(t.gettext("How we handle your data"), privacy_url),
    ]
    return card(body, actions)


def _what_is_kept(t: Translator) -> str:
    return t.gettext(
        "Kept without your name: which organisation the registrations for sessions that have taken place came "
        "from, whether they were attended, and ratings without comments. The project reports these numbers per "
        "municipality, and they name nobody."
    )


def erase_question_card(t: Translator) -> Card:
    body: list[Element] = [
        heading(t.gettext("Delete my data?"), size="Medium"),
        text(
            t.gettext(
                "Your name, e-mail address, role, the reasons you gave for not coming, your theme suggestions, "
                "your comments and our chat reference are deleted. You lose your places in sessions that have "
                "not started, and the calendar invitations are withdrawn. This cannot be undone."
            )
        ),
        text(_what_is_kept(t), isSubtle=True),
    ]
    actions = [
        execute(t.gettext("Yes, delete my data"), verbs.ERASE, style="destructive"),
        execute(t.gettext("No, keep it"), verbs.MY_DATA),
    ]
    return card(body, actions)


def erased_card(t: Translator, erasure: Erasure) -> Card:
    body: list[Element] = [heading(t.gettext("Your data has been deleted"), size="Medium")]
    if erasure.withdrawn:
        body.append(
            text(
                t.ngettext(
                    "Your place in {n} coming session was given up.",
                    "Your places in {n} coming sessions were given up.",
                    erasure.withdrawn,
                ).format(n=erasure.withdrawn)
            )
        )
    if erasure.kept:
        body.append(text(_what_is_kept(t)))
    body.append(
        text(
            t.gettext("If you write to me again, I will not know you: you start afresh, like someone new."),
            isSubtle=True,
        )
    )
    return card(body)


def erase_candidates_card(t: Translator, found: Sequence[Candidate]) -> Card:
    """Everyone the e-mail address or mention matched, each with their own button."""
    body: list[Element] = [
        heading(t.gettext("Delete a participant's data?"), size="Medium"),
        text(
            t.gettext(
                "Everything naming them is deleted and their places in coming sessions are given up; past "
                "registrations stay, without a name, in the statistics. The audit log says that it was done, "
                "not whom it concerned. This cannot be undone."
            )
        ),
    ]
    for candidate in found:
        person, registrations = candidate.person, candidate.registrations
        count = t.ngettext("{n} registration", "{n} registrations", registrations).format(n=registrations)
        who = ", ".join(x for x in (person.name, person.organisation, person.email) if x) or "–"
        body.append(
            container(
                [
                    plain(person.name or "–", weight="Bolder"),
                    plain(", ".join(x for x in (person.organisation, person.email) if x) or "–", spacing="None"),
                    text(count, isSubtle=True, spacing="None"),
                    action_set(
                        [
                            execute(
                                t.gettext("Delete this person's data"),
                                verbs.ORG_ERASE,
                                {verbs.PERSON: person.id},
                                style="destructive",
                                tooltip=t.gettext("Delete the data of {who}").format(who=who),
                            )
                        ]
                    ),
                ],
                separator=True,
                spacing="Medium",
            )
        )
    return card(body)


def organiser_erased_card(t: Translator, erasure: Erasure) -> Card:
    lines = [heading(t.gettext("The participant's data has been deleted"), size="Medium")]
    lines.append(
        text(
            t.gettext(
                "{withdrawn} places in coming sessions given up; {kept} past registrations kept without a name."
            ).format(withdrawn=erasure.withdrawn, kept=erasure.kept)
        )
    )
    return card(lines)
