"""The durable journal: outbox, payments, sagas and executed commands in one SQLite file."""

from kiosk.journal.crypto import DEMO_KEY, Sealer, load_key
from kiosk.journal.errors import (
    JournalCorruptError,
    JournalError,
    JournalKeyError,
    JournalMigrationError,
    PaymentExistsError,
)
from kiosk.journal.migrations import LATEST_VERSION, MIGRATIONS
from kiosk.journal.store import (
    DataClass,
    Journal,
    Lane,
    OutboxRow,
    OutboxStats,
    PaymentRow,
    SagaRow,
)

__all__ = [
    "DEMO_KEY",
    "LATEST_VERSION",
    "MIGRATIONS",
    "DataClass",
    "Journal",
    "JournalCorruptError",
    "JournalError",
    "JournalKeyError",
    "JournalMigrationError",
    "Lane",
    "OutboxRow",
    "OutboxStats",
    "PaymentExistsError",
    "PaymentRow",
    "SagaRow",
    "Sealer",
    "load_key",
]
