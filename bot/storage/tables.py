"""The database schema (SQLAlchemy Core); Alembic migrations are written against it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

series = Table(
    "series",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("organiser", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("target_group", Text, nullable=False, default=""),
    Column("language", String(5), nullable=False),
    Column("fee", String(200), nullable=False, default=""),
    Column("contacts", JSON, nullable=False),
    Column("organisations", JSON, nullable=False),
    Column("total_sessions", Integer, nullable=True),
    Column("organiser_channel_id", String(300), nullable=True),
    # Where the organisers' digest is posted (the channel's service URL), and when it last was.
    Column("organiser_service_url", String(500), nullable=True),
    Column("last_digest_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("title", String(300), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("after_talk_ends_at", UTCDateTime, nullable=True),
    Column("registration_deadline", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("place", String(200), nullable=False, default="Teams"),
    Column("description", Text, nullable=False, default=""),
    Column("programme", JSON, nullable=False),
    Column("guest", String(300), nullable=False, default=""),
    # Everyone taking part on the organisers' side ("Medverkande"), as the invitation lists them.
    Column("contributors", JSON, nullable=True),
    Column("capacity", Integer, nullable=True),
    Column("join_url", Text, nullable=True),
    Column("cancel_reason", Text, nullable=False, server_default=""),
    # The unguessable part of the session's "add to calendar" link (one event for all who come, no names).
    Column("calendar_token", String(64), nullable=True, unique=True),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("series_id", "number", name="uq_sessions_series_number"),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
    CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status_known"),
)
Index("ix_sessions_status_starts_at", sessions.c.status, sessions.c.starts_at)
# The participants' overview: published sessions that have not ended, without reading the years that have.
Index("ix_sessions_status_ends_at", sessions.c.status, sessions.c.ends_at)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("aad_object_id", String(64), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("email", String(320), nullable=False, default=""),
    Column("organisation", String(200), nullable=False, default=""),
    Column("role", String(200), nullable=False, default=""),
    Column("language", String(5), nullable=True),
    Column("teams_locale", String(20), nullable=True),
    # Where to reach the person in a 1:1 chat (a conversation reference), kept fresh on every turn.
    Column("service_url", String(500), nullable=True),
    Column("conversation_id", String(500), nullable=True),
    Column("bot_id", String(200), nullable=True),
    # False after an uninstall or a 403 from Teams; true again when the person writes to the bot.
    Column("reachable", Boolean, nullable=False, server_default="1"),
    Column("announcements_opt_out", Boolean, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The last turn: people gone quiet for the retention period lose their contact data.
    Column("last_seen_at", UTCDateTime, nullable=True),
    # Erased on request or by retention: only the organisation is left, for the statistics.
    Column("erased_at", UTCDateTime, nullable=True),
    UniqueConstraint("tenant_id", "aad_object_id", name="uq_people_identity"),
)
Index("ix_people_last_seen_at", people.c.last_seen_at)

registrations = Table(
    "registrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("after_talk", Boolean, nullable=False, default=False),
    Column("absence_reason", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status_changed_at", UTCDateTime, nullable=False),
    Column("waitlisted_at", UTCDateTime, nullable=True),
    # One registration per person and session, whatever the application does.
    UniqueConstraint("session_id", "person_id", name="uq_registrations_session_person"),
    CheckConstraint("status IN ('registered', 'waitlisted', 'absent', 'withdrawn')", name="status_known"),
)
Index("ix_registrations_session_status", registrations.c.session_id, registrations.c.status)
Index("ix_registrations_person", registrations.c.person_id)

# Registered for a whole series: each session published later registers them (until they leave it).
series_registrations = Table(
    "series_registrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("series_id", "person_id", name="uq_series_registrations_series_person"),
)
Index("ix_series_registrations_person", series_registrations.c.person_id)

# Activity ids already handled: Teams redelivers an activity it got no answer to in time.
processed_activities = Table(
    "processed_activities",
    metadata,
    Column("activity_id", String(200), primary_key=True),
    Column("processed_at", UTCDateTime, nullable=False),
)

organisers = Table(
    "organisers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False),
    Column("aad_object_id", String(64), nullable=False),
    # As Teams showed it when added by @mention: the list can name someone who never wrote to the bot.
    Column("name", String(200), nullable=False, server_default=""),
    Column("added_by", String(64), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    UniqueConstraint("series_id", "aad_object_id", name="uq_organisers_series_person"),
)

# Every organiser action: who, what, when, before and after.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False),
    Column("actor_aad_object_id", String(64), nullable=False),
    Column("actor_name", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("at", UTCDateTime, nullable=False),
)
Index("ix_audit_log_series_at", audit_log.c.series_id, audit_log.c.at)

# Messages the bot will send on its own, written in the same transaction as the change that causes them.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("kind", String(50), nullable=False),
    # A person's 1:1 chat, or (person_id empty) a channel named in the payload.
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=True),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    # A worker's claim ('claimed', not yet tried) or request in flight ('sending') holds the row until this
    # time. A worker that dies leaves claimed rows to be sent by another, and rows in flight to be marked
    # failed, never resent: they may have arrived.
    Column("lease_until", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", String(300), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("failed_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('pending', 'claimed', 'sending', 'sent', 'failed')", name="status_known"),
)
Index("ix_outbox_status_next", outbox.c.status, outbox.c.next_attempt_at)
Index("ix_outbox_failed_at", outbox.c.failed_at)

# Download links for exports: only a hash of the random token is stored; the link expires.
exports = Table(
    "exports",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Our messages about a session in a person's 1:1 chat, by Teams' activity id: when the person's place changes
# they are updated in place (what Teams offers every client, phones included), so none tells an old story.
chat_cards = Table(
    "chat_cards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("activity_id", String(200), nullable=False),
    # As the outbox row that sent it: the card is rendered again from these, with the state of the moment.
    Column("kind", String(50), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    UniqueConstraint("person_id", "activity_id", name="uq_chat_cards_person_activity"),
)
Index("ix_chat_cards_person_id_session_id", chat_cards.c.person_id, chat_cards.c.session_id)

# Download links to a person's own data ("mina uppgifter"), as the organisers' exports: a hash, expiring.
personal_exports = Table(
    "personal_exports",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# "How was the session?": one answer per person and session.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("session_id", "person_id", name="uq_feedback_session_person"),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
)

# Themes and questions participants would like a coming session to take up ("Lärträffarnas teman och
# innehåll medskapas av de som deltar"). The digest of the cleaned text makes a double click one row.
theme_suggestions = Table(
    "theme_suggestions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False),
    # Empty once the retention period has passed: the theme stays, who suggested it does not.
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=True),
    Column("text", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("series_id", "person_id", "digest", name="uq_theme_suggestions_series_person_digest"),
)

# Each published session's Teams meeting: what Graph has been told, and what it still must be told.
meetings = Table(
    "meetings",
    metadata,
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("mode", String(10), nullable=False),
    # Sent with the create request: Graph answers a repeat with the event it already made.
    Column("transaction_id", String(64), nullable=False),
    Column("event_id", String(500), nullable=True),
    # Raised when the reconciler claims the meeting, for the changes logged in meeting_changes since;
    # synced is what Graph has.
    Column("attendees_version", Integer, nullable=False, server_default="0"),
    Column("attendees_synced", Integer, nullable=False, server_default="0"),
    Column("details_version", Integer, nullable=False, server_default="0"),
    Column("details_synced", Integer, nullable=False, server_default="0"),
    Column("cancelled", Boolean, nullable=False, server_default="0"),
    Column("due_at", UTCDateTime, nullable=False),
    Column("retry_at", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(300), nullable=False, server_default=""),
    Column("problem", String(50), nullable=False, server_default=""),
    Column("responses_checked_at", UTCDateTime, nullable=True),
    Column("attendance", String(20), nullable=False, server_default="pending"),
    # One reconciler at a time per meeting, across instances; a dead one's lease runs out.
    Column("lease_holder", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    CheckConstraint("mode IN ('graph', 'manual')", name="mode_known"),
)
Index("ix_meetings_due_at", meetings.c.due_at)

# "Attendees changed", written by the transaction that changes a registration. A row per change, not a
# counter on the meeting: hundreds registering at once would queue on the meeting's row lock, each until
# its commit. The reconciler takes them when it claims the meeting; one written meanwhile stays for the
# next round.
meeting_changes = Table(
    "meeting_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)
Index("ix_meeting_changes_session_id", meeting_changes.c.session_id)

# Graph allows 4 requests in flight per mailbox: one row per slot, held with a lease, shared by instances.
graph_slots = Table(
    "graph_slots",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("holder", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
)

# Who joined each session's meeting, from Teams' attendance reports.
attendance = Table(
    "attendance",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
    Column("identity_key", String(320), nullable=False),
    Column("aad_object_id", String(64), nullable=False, server_default=""),
    Column("email", String(320), nullable=False, server_default=""),
    Column("name", String(200), nullable=False, server_default=""),
    Column("seconds", Integer, nullable=False, server_default="0"),
    # Matched by display name alone: the organisers' cards say so.
    Column("uncertain", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("session_id", "identity_key", name="uq_attendance_session_identity"),
)
