"""The frozen settings the ID card reader driver takes (filled from the [idcard] section)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IdCardSettings"]


@dataclass(frozen=True, slots=True)
class IdCardSettings:
    """Everything the driver needs; durations in seconds.

    Deadlines follow the module's documented client timeouts (docs/idcard-reader.md): status
    300 ms, find and select 100 ms, a text+photo read 2 s (1295 bytes take 112 ms at 115200 and
    1.35 s at 9600, on top of the SAM's work)."""

    port: str = "/dev/idcard"
    baudrate: int = 115200
    query_timeout: float = 0.3
    find_timeout: float = 0.3
    read_timeout: float = 2.0
    retries: int = 2
    read_attempts: int = 3
    poll_interval: float = 0.2
    reopen_attempts: int = 5
    reopen_backoff: float = 0.2
    reopen_backoff_max: float = 2.0
    read_slice: float = 0.02
