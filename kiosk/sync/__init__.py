"""MQTT sync with the central system: transport, presence, edge checks, RPC, drain, commands."""

from kiosk.sync.errors import (
    OfflineError,
    RpcProtocolError,
    RpcRejectedError,
    RpcTimeoutError,
    SyncError,
)
from kiosk.sync.service import SyncService

__all__ = [
    "OfflineError",
    "RpcProtocolError",
    "RpcRejectedError",
    "RpcTimeoutError",
    "SyncError",
    "SyncService",
]
