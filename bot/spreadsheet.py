"""The organisers' export: registrations as an Excel workbook (.xlsx), one row per person and session;
for the whole series, the participants' theme suggestions on a second sheet."""

from __future__ import annotations

import io
import re

from bot.domain.model import RegistrationStatus
from bot.i18n import Translator
from bot.services.organisers import ExportData

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
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

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
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for session, person, registration in data.rows:
        sheet.append(
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
        )
    for index, width in enumerate((8, 17, 28, 32, 26, 26, 16, 11, 40, 20), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    if data.suggestions:
        ideas = book.create_sheet(t.gettext("Theme suggestions")[:31])
        ideas.append([t.gettext("Date"), t.gettext("Name"), t.gettext("Organisation"), t.gettext("Suggestion")])
        for cell in ideas[1]:
            cell.font = Font(bold=True)
        for suggestion in data.suggestions:
            when = t.local(suggestion.created_at).replace(tzinfo=None)
            ideas.append([when, _cell(suggestion.name), _cell(suggestion.organisation), _cell(suggestion.text)])
        for index, width in enumerate((20, 28, 26, 80), start=1):
            ideas.column_dimensions[get_column_letter(index)].width = width
        ideas.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
