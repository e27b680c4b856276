"""The organisers' export: registrations as an Excel workbook (.xlsx), one row per person and session;
for the whole series, the participants' theme suggestions on a second sheet."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.domain.model import RegistrationStatus
from bot.i18n import Translator
from bot.services.organisers import ExportData

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters the xlsx format cannot hold


def _cell(value: str) -> str:
    # A leading =, +, - or @ would make Excel run the text as a formula (CSV/formula injection).
    value = _ILLEGAL.sub(" ", value)
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def status_label(t: Translator, status: RegistrationStatus) -> str:
    return {
        RegistrationStatus.REGISTERED: t.gettext("registered"),
        RegistrationStatus.WAITLISTED: t.gettext("on the waiting list"),
        RegistrationStatus.ABSENT: t.gettext("absent"),
        RegistrationStatus.WITHDRAWN: t.gettext("withdrawn"),
    }[status]


def workbook(data: ExportData, t: Translator) -> bytes:
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
        ]
        for session, person, registration in data.rows
    ]
    _table(sheet, headers, rows, (8, 17, 28, 32, 26, 26, 16, 11, 40, 20))
    sheet.auto_filter.ref = sheet.dimensions
    if data.suggestions:
        headers = [t.gettext("Date"), t.gettext("Name"), t.gettext("Organisation"), t.gettext("Suggestion")]
        rows = [
            [t.local(s.created_at).replace(tzinfo=None), _cell(s.name), _cell(s.organisation), _cell(s.text)]
            for s in data.suggestions
        ]
        _table(book.create_sheet(t.gettext("Theme suggestions")[:31]), headers, rows, (20, 28, 26, 80))
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
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
