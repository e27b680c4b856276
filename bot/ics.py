"""A session as an iCalendar file (RFC 5545): one event, in Europe/Stockholm with its VTIMEZONE, the same UID
whenever it is fetched, so that importing it again updates the event instead of adding a second one."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.model import Series, Session, SessionStatus
from bot.i18n import Translator

ZONE = ZoneInfo("Europe/Stockholm")
SEQUENCE_EPOCH = 29_000_000  # minutes since 1970 in 2025: keeps SEQUENCE a small, growing number


def session_uid(session: Session, host: str) -> str:
    return f"lartraff-session-{session.id}@{host or 'lartraff'}"


def calendar_file(t: Translator, series: Series, session: Session, host: str, now: datetime) -> bytes:
    # Imported here: the calendar library is needed only when someone downloads a file.
    from icalendar import Calendar, Event, Timezone

    calendar = Calendar()
    calendar.add("prodid", "-//Lärträff//lartraff//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(
        Timezone.from_tzinfo(ZONE, first_date=session.starts_at.date() - timedelta(days=1),
                             last_date=session.ends_at.date() + timedelta(days=1))
    )  # fmt: skip
    event = Event()
    event.add("uid", session_uid(session, host))
    # Each change of the session is a later version of the same event for the calendar that imports it.
    changed = session.updated_at or now
    event.add("sequence", int(changed.timestamp()) // 60 - SEQUENCE_EPOCH)
    event.add("dtstamp", now)
    event.add("dtstart", session.starts_at.astimezone(ZONE))
    event.add("dtend", (session.after_talk_ends_at or session.ends_at).astimezone(ZONE))
    title = t.gettext("Session {number}: {title}").format(number=session.number, title=session.title)
    event.add("summary", f"{title} ({series.title})")
    lines = [session.description] if session.description else []
    if session.join_url:
        event.add("url", session.join_url)
        event.add("location", session.join_url)
        lines.append(t.gettext("Join in Teams: {url}").format(url=session.join_url))
    else:
        event.add("location", session.place)
        lines.append(t.gettext("The Teams link comes in the chat with Lärträff before the session."))
    event.add("description", "\n\n".join(lines))
    event.add("status", "CANCELLED" if session.status is SessionStatus.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    body: bytes = calendar.to_ical()
    return body
