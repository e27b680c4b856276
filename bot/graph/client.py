"""The calendar in the organisers' mailbox, through msgraph-sdk: events with Teams meetings, their
invitees and responses, and the meetings' attendance reports.

Graph retries are ours, not the SDK's: the reconciler keeps its state in the database, so a retry
survives a restart, and every request is counted against the mailbox's limit of parallel requests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bot import telemetry
from bot.services.calendar import Attendee, CalendarError, CreatedEvent, EventDetails, Invitee, InviteeResponse

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

# Teams appends its join block to the event body, starting with a rule drawn in underscores.
_JOIN_BLOCK = re.compile(r"<div[^>]*>\s*(?:<span[^>]*>)?\s*_{30,}", re.IGNORECASE)
_TIME_ZONE = "UTC"  # times go to Graph in UTC; Outlook shows them in each reader's zone


class GraphCalendar:
    def __init__(self, credential: AsyncTokenCredential, mailbox: str, base_url: str) -> None:
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph.graph_request_adapter import GraphRequestAdapter
        from msgraph.graph_request_adapter import options as sdk_options
        from msgraph.graph_service_client import GraphServiceClient
        from msgraph_core import GraphClientFactory

        parts = urlsplit(base_url)
        auth = AzureIdentityAuthenticationProvider(
            credential, scopes=[f"{parts.scheme}://{parts.netloc}/.default"], allowed_hosts=[parts.hostname or ""]
        )
        options = {**sdk_options, RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=0)}
        # Our own transport, closed by us: msgraph-core's wrapper around it does not pass aclose() on.
        self._transport = httpx.AsyncHTTPTransport(http2=True)
        client = httpx.AsyncClient(transport=self._transport, timeout=httpx.Timeout(60.0, connect=30.0))
        http = GraphClientFactory.create_with_default_middleware(client=client, options=options)
        adapter = GraphRequestAdapter(auth, http)
        adapter.base_url = base_url.rstrip("/")
        self._http = http
        self._credential = credential
        self._mailbox = mailbox
        self._user = GraphServiceClient(request_adapter=adapter).users.by_user_id(mailbox)

    @property
    def mailbox(self) -> str:
        return self._mailbox

    def warm_up(self) -> None:
        """Blocking, for a worker thread at start-up: msgraph-sdk imports each model's field types the
        first time one is read, about 2 s for an event. Done on the event loop at the first sync, that
        stalled every turn of the bot."""
        from kiota_serialization_json.json_parse_node import JsonParseNode
        from msgraph.generated.models.attendance_record_collection_response import (
            AttendanceRecordCollectionResponse,
        )
        from msgraph.generated.models.event import Event
        from msgraph.generated.models.meeting_attendance_report_collection_response import (
            MeetingAttendanceReportCollectionResponse,
        )
        from msgraph.generated.models.online_meeting_collection_response import OnlineMeetingCollectionResponse

        person = {"emailAddress": {"address": "someone@example.org", "name": "Someone"}}
        when = {"dateTime": "2026-01-01T10:00:00.0000000", "timeZone": "UTC"}
        samples: list[tuple[Any, dict[str, Any]]] = [
            (Event, {
                "id": "x", "subject": "x", "body": {"contentType": "html", "content": "x"}, "start": when,
                "end": when, "organizer": person, "location": {"displayName": "x"}, "locations": [],
                "responseStatus": {"response": "none", "time": "2026-01-01T10:00:00Z"},
                "attendees": [{**person, "type": "required", "status": {"response": "declined"}}],
                "isOnlineMeeting": True, "onlineMeetingProvider": "teamsForBusiness",
                "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/x"},
            }),
            (OnlineMeetingCollectionResponse, {"value": [{
                "id": "x", "joinWebUrl": "https://teams", "lobbyBypassSettings": {"scope": "invited"},
            }]}),
            (MeetingAttendanceReportCollectionResponse, {"value": [{"id": "x", "totalParticipantCount": 1}]}),
            (AttendanceRecordCollectionResponse, {"value": [{
                "id": "x", "emailAddress": "someone@example.org", "totalAttendanceInSeconds": 1,
                "identity": {"id": "x", "displayName": "x"}, "attendanceIntervals": [{"durationInSeconds": 1}],
            }]}),
        ]  # fmt: skip
        for model, sample in samples:
            JsonParseNode(sample).get_object_value(model)

    async def close(self) -> None:
        await self._http.aclose()
        await self._transport.aclose()
        await self._credential.close()

    async def create_event(
        self, details: EventDetails, invitees: Sequence[Invitee], transaction_id: str
    ) -> CreatedEvent:
        from msgraph.generated.models.event import Event
        from msgraph.generated.models.online_meeting_provider_type import OnlineMeetingProviderType

        event = _event(details, Event)
        event.attendees = _attendees(invitees)
        event.is_online_meeting = True
        event.online_meeting_provider = OnlineMeetingProviderType.TeamsForBusiness
        event.hide_attendees = True  # participants don't see each other's addresses
        event.allow_new_time_proposals = False
        event.response_requested = True  # so that a decline reaches us
        event.transaction_id = transaction_id
        created = await _call(self._user.events.post(event))
        if created is None or not created.id:
            raise CalendarError(502, "NoEventId")
        meeting = created.online_meeting
        join_url = meeting.join_url if meeting and meeting.join_url else None
        return CreatedEvent(created.id, join_url, _addresses(created.attendees))

    async def update_event(self, event_id: str, details: EventDetails) -> None:
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from msgraph.generated.models.event import Event
        from msgraph.generated.users.item.events.item.event_item_request_builder import EventItemRequestBuilder

        item = self._user.events.by_event_id(event_id)
        query = EventItemRequestBuilder.EventItemRequestBuilderGetQueryParameters(select=["body"])
        config = RequestConfiguration(query_parameters=query)
        current = await _call(item.get(config))
        old_body = current.body.content if current and current.body and current.body.content else ""
        await _call(item.patch(_event(details, Event, keep=join_block(old_body))))

    async def set_attendees(self, event_id: str, invitees: Sequence[Invitee]) -> frozenset[str]:
        from msgraph.generated.models.event import Event

        # Only `attendees`: Graph then notifies only the invitees added or removed, not everyone.
        updated = await _call(self._user.events.by_event_id(event_id).patch(Event(attendees=_attendees(invitees))))
        return _addresses(updated.attendees if updated else None)

    async def cancel_event(self, event_id: str, comment: str) -> None:
        from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import CancelPostRequestBody

        await _call(self._user.events.by_event_id(event_id).cancel.post(CancelPostRequestBody(comment=comment)))

    async def responses(self, event_id: str) -> list[InviteeResponse]:
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from msgraph.generated.users.item.events.item.event_item_request_builder import EventItemRequestBuilder

        query = EventItemRequestBuilder.EventItemRequestBuilderGetQueryParameters(select=["attendees"])
        config = RequestConfiguration(query_parameters=query)
        event = await _call(self._user.events.by_event_id(event_id).get(config))
        result = []
        for attendee in (event.attendees if event else None) or []:
            address = attendee.email_address.address if attendee.email_address else None
            status = attendee.status
            if not address or status is None or status.response is None:
                continue
            result.append(InviteeResponse(address.lower(), str(status.response.value), _aware(status.time)))
        return result

    async def _online_meeting(self, join_url: str) -> Any:
        """The onlineMeeting behind an event's join link (None when Teams does not know it)."""
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from msgraph.generated.users.item.online_meetings.online_meetings_request_builder import (
            OnlineMeetingsRequestBuilder,
        )

        escaped = join_url.replace("'", "''")
        query = OnlineMeetingsRequestBuilder.OnlineMeetingsRequestBuilderGetQueryParameters(
            filter=f"JoinWebUrl eq '{escaped}'"
        )
        config = RequestConfiguration(query_parameters=query)
        found = await _call(self._user.online_meetings.get(config))
        meetings = (found.value if found else None) or []
        return meetings[0] if meetings and meetings[0].id else None

    async def admit(self, join_url: str, scope: str) -> bool | None:
        from msgraph.generated.models.lobby_bypass_scope import LobbyBypassScope
        from msgraph.generated.models.lobby_bypass_settings import LobbyBypassSettings
        from msgraph.generated.models.online_meeting import OnlineMeeting

        found = await self._online_meeting(join_url)
        if found is None:
            return None
        wanted = LobbyBypassScope(scope)
        current = found.lobby_bypass_settings.scope if found.lobby_bypass_settings else None
        if current == wanted:
            return False
        # Only the lobby: a PATCH that carried more of the meeting (its type, its times) would be refused or
        # would change what Outlook's event owns.
        change = OnlineMeeting(lobby_bypass_settings=LobbyBypassSettings(scope=wanted))
        await _call(self._user.online_meetings.by_online_meeting_id(found.id).patch(change))
        return True

    async def attendance(self, join_url: str) -> list[Attendee] | None:
        found = await self._online_meeting(join_url)
        if found is None:
            return None
        meeting = self._user.online_meetings.by_online_meeting_id(found.id)
        reports = await _call(meeting.attendance_reports.get())
        report_ids = [r.id for r in ((reports.value if reports else None) or []) if r.id]
        if not report_ids:
            return None
        merged: dict[str, Attendee] = {}
        for report_id in report_ids:
            records = meeting.attendance_reports.by_meeting_attendance_report_id(report_id).attendance_records
            page = await _call(records.get())
            while page is not None:
                for record in page.value or []:
                    _merge(merged, record)
                link = page.odata_next_link
                page = await _call(records.with_url(link).get()) if link else None
        return list(merged.values())


def join_block(body_html: str) -> str:
    """The Teams join block at the end of an event body ('' when there is none)."""
    found = _JOIN_BLOCK.search(body_html)
    return body_html[found.start() :] if found else ""


def _event(details: EventDetails, event_type: Any, keep: str = "") -> Any:
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
    from msgraph.generated.models.item_body import ItemBody

    def at(moment: datetime) -> Any:
        return DateTimeTimeZone(date_time=moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), time_zone=_TIME_ZONE)

    return event_type(
        subject=details.subject,
        body=ItemBody(content_type=BodyType.Html, content=details.body_html + keep),
        start=at(details.starts_at),
        end=at(details.ends_at),
    )


def _addresses(attendees: Sequence[Any] | None) -> frozenset[str]:
    return frozenset(
        a.email_address.address.lower() for a in attendees or () if a.email_address and a.email_address.address
    )


def _attendees(invitees: Sequence[Invitee]) -> list[Any]:
    from msgraph.generated.models.attendee import Attendee as GraphAttendee
    from msgraph.generated.models.attendee_type import AttendeeType
    from msgraph.generated.models.email_address import EmailAddress

    return [
        GraphAttendee(email_address=EmailAddress(address=i.email, name=i.name), type=AttendeeType.Required)
        for i in invitees
    ]


def _merge(merged: dict[str, Attendee], record: Any) -> None:
    identity = record.identity
    aad = (identity.id if identity and identity.id else "").lower()
    email = (record.email_address or "").lower()
    key = aad or email or (identity.display_name if identity else "") or ""
    if not key:
        return
    name = identity.display_name if identity and identity.display_name else ""
    seconds = int(record.total_attendance_in_seconds or 0)
    before = merged.get(key)
    if before is not None:
        seconds += before.seconds
    merged[key] = Attendee(aad, email, name, seconds)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _call(request: Any) -> Any:
    """Awaits an SDK request; every failure comes out as a CalendarError with the status and Retry-After."""
    import httpx
    from kiota_abstractions.api_error import APIError

    with telemetry.span("graph"):
        try:
            return await request
        except APIError as error:
            headers = {k.lower(): v for k, v in (error.response_headers or {}).items()}
            inner = getattr(error, "error", None)
            code = str(getattr(inner, "code", "") or "")
            status = error.response_status_code or 0
            if status == 429:
                telemetry.throttled("graph")
            raise CalendarError(status, code, _retry_after(headers.get("retry-after"))) from None
        except httpx.HTTPError as error:
            raise CalendarError(0, type(error).__name__) from None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None
