"""The calendar invitation of a session: subject and HTML body in the series' language."""

from __future__ import annotations

from html import escape

from bot.domain.model import Series, Session
from bot.i18n import Translator
from bot.services.calendar import EventDetails


def invitation(t: Translator, series: Series, session: Session) -> EventDetails:
    """The event spans the after-talk too: one Teams meeting for both, as the invitation has it."""
    parts = [
        f"<p><b>{escape(series.title)}</b></p>",
        f"<h2>{escape(t.gettext('Session {number}: {title}').format(number=session.number, title=session.title))}</h2>",
        f"<p>{escape(t.time_span(session.starts_at, session.ends_at))}</p>",
    ]
    if session.after_talk_ends_at is not None:
        after_talk = t.gettext("After-talk until {end} for those who want to stay (optional).").format(
            end=t.time(session.after_talk_ends_at)
        )
        parts.append(f"<p>{escape(after_talk)}</p>")
    if session.description:
        parts.append(f"<p>{escape(session.description)}</p>")
    if session.programme:
        parts.append(f"<h3>{escape(t.gettext('Programme'))}</h3><ul>")
        for item in session.programme:
            speakers = f"<br><i>{escape(item.speakers)}</i>" if item.speakers else ""
            parts.append(f"<li>{escape(item.title)}{speakers}</li>")
        parts.append("</ul>")
    if session.guest:
        parts.append(f"<p>{escape(t.gettext('Invited guest'))}: {escape(session.guest)}</p>")
    if series.contacts:
        contacts = ", ".join(" ".join(x for x in (c.name, c.email, c.phone) if x) for c in series.contacts)
        parts.append(f"<p>{escape(t.gettext('Contact'))}: {escape(contacts)}</p>")
    parts.append(
        "<p>"
        + escape(
            t.gettext(
                "Can't come? Decline this invitation or tell the Lärträff bot in Teams, so that someone else can "
                "have your seat."
            )
        )
        + "</p>"
    )
    # The number too: a series' titles may repeat ("Tema väljs tillsammans med deltagarna"), and a calendar
    # shows the subject alone.
    title = t.gettext("Session {number}: {title}").format(number=session.number, title=session.title)
    subject = f"{series.title}, {title}"
    return EventDetails(subject[:255], "".join(parts), session.starts_at, session.after_talk_ends_at or session.ends_at)
