"""Errors of the journal, each with a stable code."""

from __future__ import annotations

__all__ = [
    "JournalCorruptError",
    "JournalError",
    "JournalKeyError",
    "JournalMigrationError",
    "PaymentExistsError",
]


class JournalError(Exception):
    """Root of journal errors; `code` is stable, the message is for humans."""

    code = "journal.error"


class JournalCorruptError(JournalError):
    """`PRAGMA integrity_check` failed at start-up: the file must be inspected, never used."""

    code = "journal.corrupt"


class JournalKeyError(JournalError):
    """The at-rest key is missing or malformed (production has no demo key)."""

    code = "journal.key"


class JournalMigrationError(JournalError):
    """The file's schema is newer than this software, or a migration failed."""

    code = "journal.migration"


class PaymentExistsError(JournalError):
    """A payment with this key is already in the journal (the key is used once, ever)."""

    code = "journal.payment_exists"

    def __init__(self, payment_key: str) -> None:
        self.payment_key = payment_key
        super().__init__(f"payment {payment_key} is already in the journal")
