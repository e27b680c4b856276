"""Excel workbooks (.xlsx): the organisers' export (registrations, one row per person and session; for the
whole series, the participants' theme suggestions on a second sheet), and a person's own data (registerutdrag)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain.model import Person, SessionStatus
from bot.domain.privacy import PersonalData
from bot.domain.views import SessionCounts
from bot.i18n import Translator
from bot.services.organisers import ExportData
from cards.sessions import status_label

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters the xlsx format cannot hold


def _cell(value: str) -> str:
    return _ILLEGAL.sub(" ", value)


def workbook(data: ExportData, t: Translator, vouched: Callable[[Person], bool] = lambda _: False) -> bytes:
    """`vouched`: whether a person's Microsoft 365 tenant vouches for their organisation, which the file says."""
    # Imported here: openpyxl costs some 20 MiB of memory, and exports are rare.
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t.gettext("Registrations")[:31]
    headers = [
        t.gettext("Session"),
        t.gettext("Date"),
        t.gettext("Name"),
        t.gettext("E-mail"),
        t.gettext("Organisation"),
        t.gettext("Role"),
        t.gettext("Status"),
        t.gettext("After-talk"),
        t.gettext("Reason"),
        t.gettext("Registered at"),
        t.gettext("Organisation from Microsoft 365"),
    ]
    rows = [
        [
            session.number,
            t.local(session.starts_at).strftime("%Y-%m-%d %H:%M"),
            _cell(person.name),
            _cell(person.email),
            _cell(person.organisation),
            _cell(person.role),
            status_label(t, registration.status),
            t.gettext("Yes") if registration.after_talk else t.gettext("No"),
            _cell(registration.absence_reason),
            t.local(registration.created_at).replace(tzinfo=None),
            t.gettext("Yes") if vouched(person) else t.gettext("No"),
        ]
        for session, person, registration in data.rows
    ]
    _table(sheet, headers, rows, (8, 17, 28, 32, 26, 26, 16, 11, 40, 20, 14))
    sheet.auto_filter.ref = sheet.dimensions
    if data.suggestions:
        headers = [t.gettext("Date"), t.gettext("Name"), t.gettext("Organisation"), t.gettext("Suggestion")]
        rows = [
            [t.local(s.created_at).replace(tzinfo=None), _cell(s.name), _cell(s.organisation), _cell(s.text)]
            for s in data.suggestions
        ]
        _table(book.create_sheet(t.gettext("Theme suggestions")[:31]), headers, rows, (20, 28, 26, 80))
    if data.sessions:
        _statistics(book.create_sheet(t.gettext("Statistics")[:31]), data, t)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _statistics(sheet: Worksheet, data: ExportData, t: Translator) -> None:
    """The series in figures, with Excel's own charts (they stay live when the figures are edited): per
    published session registered, waiting and absent; registered places per organisation, counted as the
    organisers' `statistik` counts them."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    published = [s for s in data.sessions if s.status is SessionStatus.PUBLISHED]
    headers = [t.gettext("Session"), t.gettext("Date"), t.gettext("Registered"), t.gettext("Waiting list"),
               t.gettext("Absent")]  # fmt: skip
    rows: list[list[Any]] = []
    for session in published:
        counts = data.counts.get(session.id, SessionCounts())
        label = t.gettext("Session {number}").format(number=session.number)
        rows.append([label, t.local(session.starts_at).strftime("%Y-%m-%d"), counts.registered, counts.waitlisted,
                     counts.absent])  # fmt: skip
    _table(sheet, headers, rows, (14, 12, 12, 12, 12))
    per_session = BarChart()
    per_session.type = "col"
    per_session.title = t.gettext("Registrations per session")
    per_session.add_data(
        Reference(sheet, min_col=3, max_col=5, min_row=1, max_row=1 + len(rows)), titles_from_data=True
    )
    per_session.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=1 + len(rows)))
    sheet.add_chart(per_session, "H2")

    top = len(rows) + 4  # a blank row between the two tables
    for column, title in enumerate((t.gettext("Organisation"), t.gettext("Registered places")), start=1):
        sheet.cell(top, column, title).font = Font(bold=True)
    ordered = data.per_organisation
    for offset, (organisation, count) in enumerate(ordered, start=1):
        sheet.cell(top + offset, 1, _cell(organisation))
        sheet.cell(top + offset, 2, count)
    if ordered:
        per_organisation = BarChart()
        per_organisation.type = "bar"
        per_organisation.title = t.gettext("Registered places per organisation")
        end = top + len(ordered)
        per_organisation.add_data(Reference(sheet, min_col=2, min_row=top, max_row=end), titles_from_data=True)
        per_organisation.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=end))
        per_organisation.legend = None
        sheet.add_chart(per_organisation, "H20")


def personal_workbook(data: PersonalData, t: Translator, now: datetime) -> bytes:
    """Everything kept about one person, a sheet per kind, in their language."""
    from openpyxl import Workbook

    def when(moment: datetime | None) -> Any:
        return t.local(moment).replace(tzinfo=None) if moment else ""

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t.gettext("My data")[:31]
    profile = [
        (t.gettext("Extract made"), when(now)),
        (t.gettext("Name"), _cell(data.name)),
        (t.gettext("E-mail"), _cell(data.email)),
        (t.gettext("Organisation"), _cell(data.organisation)),
        (t.gettext("Role"), _cell(data.role)),
        (t.gettext("Language"), data.language or ""),
        (t.gettext("Teams language"), data.teams_locale or ""),
        (t.gettext("News of sessions"), t.gettext("No") if data.announcements_opt_out else t.gettext("Yes")),
        (t.gettext("Chat with the bot kept"), t.gettext("Yes") if data.reachable_in_chat else t.gettext("No")),
        (t.gettext("First contact"), when(data.first_seen)),
        (t.gettext("Last contact"), when(data.last_seen)),
        (t.gettext("Microsoft 365 tenant"), data.tenant_id),
        (t.gettext("Entra object id"), data.aad_object_id),
        (t.gettext("Organiser of"), _cell(", ".join(data.organiser_of))),
        (t.gettext("Registered for the whole series"), _cell(", ".join(data.whole_series))),
    ]
    _table(sheet, [t.gettext("Data"), t.gettext("Value")], profile, (28, 60))
    headers = [
        t.gettext("Series"), t.gettext("Session"), t.gettext("Title"), t.gettext("Date"), t.gettext("Status"),
        t.gettext("After-talk"), t.gettext("Reason"), t.gettext("Registered at"), t.gettext("Changed at"),
    ]  # fmt: skip
    rows = [
        [
            _cell(r.series),
            r.session_number,
            _cell(r.session_title),
            when(r.starts_at),
            status_label(t, r.status),
            t.gettext("Yes") if r.after_talk else t.gettext("No"),
            _cell(r.reason),
            when(r.registered_at),
            when(r.changed_at),
        ]
        for r in data.registrations
    ]
    _table(book.create_sheet(t.gettext("Registrations")[:31]), headers, rows, (24, 8, 36, 17, 16, 11, 40, 17, 17))
    headers = [t.gettext("Session"), t.gettext("Title"), t.gettext("Rating"), t.gettext("Comment"), t.gettext("Date")]
    rows = [
        [f.session_number, _cell(f.session_title), f.rating, _cell(f.comment), when(f.given_at)] for f in data.feedback
    ]
    _table(book.create_sheet(t.gettext("Feedback")[:31]), headers, rows, (8, 36, 8, 60, 17))
    headers = [t.gettext("Series"), t.gettext("Suggestion"), t.gettext("Date")]
    rows = [[_cell(s.series), _cell(s.text), when(s.given_at)] for s in data.suggestions]
    _table(book.create_sheet(t.gettext("Theme suggestions")[:31]), headers, rows, (24, 80, 17))
    headers = [
        t.gettext("Session"), t.gettext("Title"), t.gettext("Date"), t.gettext("Minutes"), t.gettext("Name"),
        t.gettext("E-mail"),
    ]  # fmt: skip
    rows = [
        [a.session_number, _cell(a.session_title), when(a.starts_at), a.minutes, _cell(a.name), _cell(a.email)]
        for a in data.attendance
    ]
    _table(book.create_sheet(t.gettext("Attendance")[:31]), headers, rows, (8, 36, 17, 9, 28, 32))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _table(sheet: Worksheet, headers: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[int]) -> None:
    """A header row in bold, kept in view, then the rows; column widths in characters."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
        # What people typed is text, never a formula: a name like "=HYPERLINK(…)" is stored as a string cell,
        # which Excel shows as typed and does not run (formula injection), without a visible apostrophe.
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
