"""The repositories over one Database, composed once; the backends (sqlite.py, postgres.py) add opening,
migrating and closing."""

from __future__ import annotations

from .attendees import SqlAttendees
from .calendars import SqlCalendars
from .contacts import SqlContacts, SqlDmChannels
from .database import Clock, Database
from .events import SqlEvents, SqlOccurrenceChanges
from .native import SqlNative
from .outbox import SqlReminders
from .prefs import SqlReminderPrefs
from .problems import SqlProblems
from .settings import SqlMeta, SqlSettings, SqlUsers
from .stream import SqlNotificationStream
from .subscriptions import SqlSubscriptions
from .sync import SqlEventSync
from .tokens import SqlApiTokens
from .webhooks import SqlWebhooks


class SqlStore:
    """Every repository of the Store interface, over one Database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.database = db
        self.settings = SqlSettings(db, clock)
        self.users = SqlUsers(db, clock)
        self.sync = SqlEventSync(db, clock)
        self.calendars = SqlCalendars(db, clock)
        self.changes = SqlOccurrenceChanges(db, clock)
        self.events = SqlEvents(db, clock, self.changes)
        self.meta = SqlMeta(db)
        self.attendees = SqlAttendees(db, clock)
        self.reminders = SqlReminders(db, clock)
        self.tokens = SqlApiTokens(db, clock)
        self.problems = SqlProblems(db, clock)
        self.contacts = SqlContacts(db, clock)
        self.dm_channels = SqlDmChannels(db, clock)
        self.webhooks = SqlWebhooks(db, clock)
        self.reminder_prefs = SqlReminderPrefs(db, clock)
        self.stream = SqlNotificationStream(db, clock)
        self.native = SqlNative(db, clock)
        self.subscriptions = SqlSubscriptions(db, clock)
