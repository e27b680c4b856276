"""A fake Microsoft Graph on 127.0.0.1: the calendar and online-meeting endpoints the bot uses, an App
Service managed-identity token endpoint, and knobs for failures (429, 503, slow answers, no join link).

It keeps what a real mailbox would: events with attendees and their responses, cancellations, the
Teams join block Graph appends to a new online meeting's body, and attendance reports.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.localserver import LocalServer

TOKEN = "fake-graph-token"
IDENTITY_HEADER = "fake-identity-header"
MAILBOX = "larprojekt@example.org"
JOIN_BLOCK = (
    '<div style="width:100%"><span style="white-space:nowrap;color:#5F5F5F;opacity:.36;">'
    "________________________________________________________________________________</span></div>"
    '<div class="me-email-text" lang="en-US" style="color:#252424">'
    '<div><span style="font-size:24px;font-weight:700">Microsoft Teams meeting</span></div>'
    '<a href="{join}" class="me-email-headline">Join the meeting now</a></div>'
)


@dataclass
class Failure:
    status: int
    retry_after: str | None = None
    kind: str | None = None  # only for requests of this kind (as in `requests`); any when None
    # The request is carried out, then its answer lost: as when the bot's process dies while Graph answers.
    after_handling: bool = False
    # Only for requests whose body holds this text (an event's subject, say): sessions are synced side by side,
    # in no fixed order, so a failure meant for one must not befall another.
    body_holds: str | None = None


@dataclass
class FakeGraph(LocalServer):
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, kind)
    patches: list[dict[str, Any]] = field(default_factory=list)  # the bodies of event PATCHes, as sent
    failures: list[Failure] = field(default_factory=list)  # answers for the next requests, in order
    down: bool = False  # every request gets 503 while true
    no_join_url: bool = False  # 201 without onlineMeeting.joinUrl, as for a mailbox without Teams
    latency: float = 0.0  # seconds each calendar request takes
    hold_patches: asyncio.Event | None = None  # PATCH requests wait for this to be set
    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight: Counter[str] = field(default_factory=Counter)
    attendance: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # join URL -> records
    lobbies: dict[str, dict[str, Any]] = field(default_factory=dict)  # meeting id -> lobbyBypassSettings
    meeting_patches: list[dict[str, Any]] = field(default_factory=list)  # onlineMeeting PATCH bodies, as sent
    tokens_issued: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> None:
        await self.serve(self.app())

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/msi/token", self._token)
        base = "/v1.0/users/{mailbox}"
        app.router.add_post(base + "/events", self._create)
        app.router.add_get(base + "/events/{id}", self._get)
        app.router.add_patch(base + "/events/{id}", self._patch)
        app.router.add_post(base + "/events/{id}/cancel", self._cancel)
        app.router.add_get(base + "/onlineMeetings", self._meetings)
        app.router.add_patch(base + "/onlineMeetings/{meeting}", self._patch_meeting)
        app.router.add_get(base + "/onlineMeetings/{meeting}/attendanceReports", self._reports)
        app.router.add_get(
            base + "/onlineMeetings/{meeting}/attendanceReports/{report}/attendanceRecords", self._records
        )
        app.router.add_get("/_state", self._state)  # what a mailbox would hold, for tests run from outside
        return app

    @property
    def base_url(self) -> str:
        return self.url + "/v1.0"

    def environment(self, mailbox: str = MAILBOX) -> dict[str, str]:
        return environment(self.url, mailbox)

    # What tests look at

    def count(self, method: str, kind: str | None = None) -> int:
        return sum(1 for m, k in self.requests if m == method and kind in (None, k))

    def only_event(self) -> dict[str, Any]:
        live = list(self.events.values())
        assert len(live) == 1, f"expected one event, found {len(live)}"
        return live[0]

    def invitees(self, event: dict[str, Any] | None = None) -> list[str]:
        event = event or self.only_event()
        return sorted(a["emailAddress"]["address"].lower() for a in event["attendees"])

    def decline(self, event_id: str, email: str, at: str | None = None) -> None:
        for attendee in self.events[event_id]["attendees"]:
            if attendee["emailAddress"]["address"].lower() == email.lower():
                attendee["status"] = {"response": "declined", "time": at or _now()}
                return
        raise AssertionError(f"{email} is not invited")

    # The endpoints

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path in ("/msi/token", "/_state"):
            response: web.StreamResponse = await handler(request)
            return response
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(401, "InvalidAuthenticationToken")
        mailbox = request.match_info.get("mailbox", "")
        last = request.path.rsplit("/", 1)[-1]
        known = ("events", "cancel", "onlineMeetings", "attendanceReports", "attendanceRecords")
        kind = {"onlineMeetings": "meetings"}.get(last, last) if last in known else "event"
        if kind == "event" and "/onlineMeetings/" in request.path:
            kind = "meeting"  # one online meeting: its lobby
        self.requests.append((request.method, kind))
        self.in_flight[mailbox] += 1
        self.max_in_flight[mailbox] = max(self.max_in_flight[mailbox], self.in_flight[mailbox])
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            if request.method == "PATCH" and self.hold_patches is not None:
                await self.hold_patches.wait()
            if self.down:
                return _error(503, "ServiceUnavailable")
            body = await request.text() if request.can_read_body else ""
            failure = next((f for f in self.failures if f.kind in (None, kind) and (f.body_holds or "") in body), None)
            if failure is not None:
                self.failures.remove(failure)
                if failure.after_handling:
                    await handler(request)
                headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                return _error(failure.status, "Scripted", headers)
            response = await handler(request)
            return response
        finally:
            self.in_flight[mailbox] -= 1

    async def _state(self, _: web.Request) -> web.Response:
        return web.json_response({"events": list(self.events.values()), "requests": self.requests})

    async def _token(self, request: web.Request) -> web.Response:
        if request.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            return _error(401, "BadIdentityHeader")
        self.tokens_issued += 1
        expires = str(int(time.time()) + 3600)
        return web.json_response(
            {
                "access_token": TOKEN,
                "expires_on": expires,
                "resource": request.query.get("resource", ""),
                "token_type": "Bearer",
            }
        )

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        for required in ("subject", "body", "start", "end"):
            if required not in body:
                return _error(400, "ErrorInvalidRequest")
        transaction = body.get("transactionId")
        for event in self.events.values():
            if transaction and event.get("transactionId") == transaction:
                return web.json_response(event, status=201)  # Graph answers a retried create with the same event
        event_id = f"AAMkAGI2-{next(self._ids)}="
        join = f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{uuid.uuid4().hex}%40thread.v2/0"
        attendees = [
            {**a, "status": {"response": "none", "time": "0001-01-01T00:00:00Z"}} for a in body.get("attendees", [])
        ]
        online = body.get("isOnlineMeeting") and body.get("onlineMeetingProvider") == "teamsForBusiness"
        event = {
            **body,
            "id": event_id,
            "attendees": attendees,
            "isCancelled": False,
            "onlineMeeting": None if self.no_join_url or not online else {"joinUrl": join},
            "mailbox": request.match_info["mailbox"],
        }
        if event["onlineMeeting"]:
            event["body"] = {**body["body"], "content": body["body"]["content"] + JOIN_BLOCK.format(join=join)}
        self.events[event_id] = event
        return web.json_response(event, status=201)

    def _event(self, request: web.Request) -> dict[str, Any] | None:
        return self.events.get(request.match_info["id"])

    async def _get(self, request: web.Request) -> web.Response:
        event = self._event(request)
        if event is None:
            return _error(404, "ErrorItemNotFound")
        select = request.query.get("$select")
        if select:
            wanted = {"id", *select.split(",")}
            return web.json_response({k: v for k, v in event.items() if k in wanted})
        return web.json_response(event)

    async def _patch(self, request: web.Request) -> web.Response:
        event = self._event(request)
        if event is None:
            return _error(404, "ErrorItemNotFound")
        body = await request.json()
        self.patches.append(copy.deepcopy(body))
        if "attendees" in body:
            before = {a["emailAddress"]["address"].lower(): a.get("status") for a in event["attendees"]}
            body["attendees"] = [
                {
                    **a,
                    "status": before.get(a["emailAddress"]["address"].lower())
                    or {"response": "none", "time": "0001-01-01T00:00:00Z"},
                }
                for a in body["attendees"]
            ]
        event.update(body)
        return web.json_response(event)

    async def _cancel(self, request: web.Request) -> web.Response:
        event = self._event(request)
        if event is None:
            return _error(404, "ErrorItemNotFound")
        event["isCancelled"] = True
        body = await request.json()
        event["cancelComment"] = body.get("Comment", "")  # Graph's own spelling of this action's parameter
        return web.Response(status=202)

    async def _meetings(self, request: web.Request) -> web.Response:
        wanted = request.query.get("$filter", "")
        found = [
            {"id": f"meeting-{e['id']}", "joinWebUrl": e["onlineMeeting"]["joinUrl"],
             "lobbyBypassSettings": self.lobby(f"meeting-{e['id']}")}
            for e in self.events.values()
            if e.get("onlineMeeting") and f"JoinWebUrl eq '{e['onlineMeeting']['joinUrl']}'" == wanted
        ]  # fmt: skip
        return web.json_response({"value": found})

    def lobby(self, meeting_id: str) -> dict[str, Any]:
        """Who skips the lobby: Teams' default for a new meeting unless changed."""
        return self.lobbies.setdefault(meeting_id, {"scope": "organization", "isDialInBypassEnabled": False})

    async def _patch_meeting(self, request: web.Request) -> web.Response:
        meeting_id = request.match_info["meeting"]
        if meeting_id.removeprefix("meeting-") not in self.events:
            return _error(404, "NotFound")
        body = await request.json()
        self.meeting_patches.append(copy.deepcopy(body))
        if "lobbyBypassSettings" in body:
            self.lobby(meeting_id).update(body["lobbyBypassSettings"])
        return web.json_response({"id": meeting_id, "lobbyBypassSettings": self.lobby(meeting_id)})

    def _join_url(self, meeting_id: str) -> str:
        event = self.events[meeting_id.removeprefix("meeting-")]
        return str(event["onlineMeeting"]["joinUrl"])

    async def _reports(self, request: web.Request) -> web.Response:
        join = self._join_url(request.match_info["meeting"])
        records = self.attendance.get(join)
        reports = [{"id": "report-1", "totalParticipantCount": len(records)}] if records is not None else []
        return web.json_response({"value": reports})

    async def _records(self, request: web.Request) -> web.Response:
        records = self.attendance.get(self._join_url(request.match_info["meeting"]), [])
        start = int(request.query.get("$skiptoken", "0"))
        page = records[start : start + 2]  # small pages, so that the client must follow nextLink
        body: dict[str, Any] = {"value": page}
        if start + 2 < len(records):
            body["@odata.nextLink"] = f"{request.scheme}://{request.host}{request.path}?$skiptoken={start + 2}"
        return web.json_response(body)


def environment(origin: str, mailbox: str = MAILBOX) -> dict[str, str]:
    """Settings and the App Service managed-identity variables that point a bot at a fake Graph."""
    return {
        "GRAPH_MAILBOX": mailbox,
        "GRAPH_AUTH": "managed_identity",
        "GRAPH_BASE_URL": origin + "/v1.0",
        "IDENTITY_ENDPOINT": origin + "/msi/token",
        "IDENTITY_HEADER": IDENTITY_HEADER,
    }


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": code}}, status=status, headers=headers)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())


def main() -> None:
    """`python -m tests.fakegraph PORT`: a fake Graph for a bot started by hand or by the end-to-end tests."""
    import sys

    web.run_app(FakeGraph().app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
