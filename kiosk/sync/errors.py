"""Errors of the sync layer, each with a stable code from drivers.vocabulary.ErrorCode."""

from __future__ import annotations

from drivers.vocabulary import ErrorCode

__all__ = [
    "OfflineError",
    "RpcProtocolError",
    "RpcRejectedError",
    "RpcTimeoutError",
    "SyncError",
]


class SyncError(Exception):
    """Root of sync errors."""

    code: str = ErrorCode.INTERNAL.value


class OfflineError(SyncError):
    """Not connected to the broker: the request was NOT sent."""

    code = ErrorCode.OFFLINE.value


class RpcTimeoutError(SyncError):
    """The request was sent but no answer came in time: its effect is unknown."""

    code = ErrorCode.RPC_TIMEOUT.value

    def __init__(self, method: str, request_id: str, timeout_s: float) -> None:
        self.method = method
        self.request_id = request_id
        super().__init__(f"{method} {request_id}: no answer within {timeout_s:.1f} s")


class RpcRejectedError(SyncError):
    """The central answered with an error; `remote_code` is its raw code."""

    code = ErrorCode.RPC_REJECTED.value

    def __init__(self, method: str, remote_code: str, message: str, permanent: bool) -> None:
        self.method = method
        self.remote_code = remote_code
        self.permanent = permanent
        super().__init__(f"{method} rejected [{remote_code}]: {message}")


class RpcProtocolError(RpcRejectedError):
    """The answer broke the contract (schema); treated as a rejection."""
