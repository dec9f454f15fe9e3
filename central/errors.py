"""The central system's error hierarchy: a stable `code` (drivers.vocabulary.ErrorCode values or
`central.*`) and a human message; what a kiosk sees in a rejected RPC is `code` + `message`."""

from __future__ import annotations

__all__ = [
    "CentralError",
    "NotFoundError",
    "RejectedError",
    "StorageDataError",
    "StorageError",
    "ValidationFailedError",
]


class CentralError(Exception):
    """Root of every error the central system raises on purpose."""

    code = "central.internal"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class StorageError(CentralError):
    """The database failed (the engine's message is kept); transient from the caller's view."""

    code = "central.storage"


class StorageDataError(StorageError):
    """A value the database can never take (an integer past 64 bits, a string that is not
    Unicode): retrying is pointless, the row is dropped or rejected for good."""

    code = "central.storage_data"


class ValidationFailedError(CentralError):
    """A request does not match the contract's schema (never retried: the kiosk must fix it)."""

    code = "central.invalid_request"


class NotFoundError(CentralError):
    """The person, account or bill asked for does not exist."""

    code = "central.not_found"


class RejectedError(CentralError):
    """A business rule refused the request (deadline passed, insufficient balance, bill paid)."""

    code = "central.rejected"
