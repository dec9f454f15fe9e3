"""The frozen settings the fingerprint driver takes (filled from the [fingerprint] section)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FingerprintSettings"]


@dataclass(frozen=True, slots=True)
class FingerprintSettings:
    """Everything the driver needs; all durations in seconds.

    Per-command deadlines follow docs/fingerprint-module.md §1.8 (queries 1 s, GenImg 1.5 s,
    Img2Tz/RegModel/Match 2 s, Search 3 s, flash writes 3-5 s).
    """

    port: str = "/dev/fingerprint"
    baudrate: int = 57600
    address: int = 0xFFFFFFFF
    password: int = 0
    byte_timeout: float = 0.5  # silence allowed inside a frame once it started
    query_timeout: float = 1.0
    gen_img_timeout: float = 1.5
    process_timeout: float = 2.0
    search_timeout: float = 3.0
    flash_timeout: float = 5.0
    data_timeout: float = 2.0  # whole data phase of a template transfer
    retries: int = 2  # extra attempts after a timeout or checksum failure
    drain_quiet: float = 0.05  # after a timeout/resync: drain until the line is quiet this long
    drain_max: float = 1.0
    capture_timeout: float = 15.0  # waiting for the citizen to place a finger
    lift_timeout: float = 10.0  # waiting for the finger to be lifted between captures
    poll_interval: float = 0.1  # between "no finger" GenImg polls
    reopen_attempts: int = 5
    reopen_backoff: float = 0.2  # first pause before reopening a vanished port, doubled each time
    reopen_backoff_max: float = 5.0
    read_slice: float = 0.05  # pyserial read timeout; deadlines are checked between slices
    empty_library_at_start: bool = True
    autobaud: bool = True  # on a silent handshake, probe the other 9600 x N rates once
    max_template_bytes: int = 4096  # a corrupt data phase cannot run away
