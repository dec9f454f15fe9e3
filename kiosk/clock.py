"""The injected clock: monotonic time for timeouts, wall time for records; and whether the
wall clock is synchronised (records carry `clock_synced`, so the central knows when to trust
their `wall` and when to use its own receive time instead)."""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "Clock",
    "ClockSync",
    "FakeClock",
    "KernelTimeStatus",
    "SystemClock",
    "kernel_time_status",
    "parse_timedatectl",
    "system_clock_synced",
]


class Clock(Protocol):
    """What the core asks of time. Injected everywhere; nothing calls `time` directly."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (timeouts, durations)."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch (records, messages); may jump when NTP syncs."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock:
    """A clock tests move by hand; `sleep` advances it instead of blocking."""

    def __init__(self, start: float = 1000.0, wall_offset: float = 1_780_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_offset

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go back")
        self._now += seconds


# --- synchronisation state -----------------------------------------------------------------------
#
# The kernel knows: an NTP daemon (systemd-timesyncd, chrony, ntpd) clears STA_UNSYNC in the
# kernel's time status once it disciplines the clock and keeps `maxerror` small; until then
# adjtimex(2) answers TIME_ERROR. Reading it (modes = 0) needs no privilege and is one system call,
# so it is asked afresh at every record. systemd's own NTPSynchronized property is computed the
# same way (STA_UNSYNC clear and maxerror below 16 s); `timedatectl` is the fallback where the
# system call is unavailable, and the timesyncd flag file the last resort. Unknown is "not
# synchronised": a kiosk whose RTC battery died must not stamp 1970 (or 2038) as trusted time.

TIME_ERROR = 5  # adjtimex(2) return value: the clock is not synchronised
STA_UNSYNC = 0x0040  # kernel time status bit: clock unsynchronised
MAXERROR_LIMIT_US = 16_000_000  # systemd's limit (sd-timedated: maxerror < 16 s)
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """`struct timex` of <sys/timex.h> (glibc, Linux), padding included."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


@dataclass(frozen=True, slots=True)
class KernelTimeStatus:
    """What adjtimex(2) said: its return value (clock state), status bits, max error (µs)."""

    state: int
    status: int
    maxerror_us: int

    @property
    def synchronised(self) -> bool:
        """The decision: not TIME_ERROR, STA_UNSYNC clear, and the error bound below 16 s."""
        return (
            self.state != TIME_ERROR
            and not self.status & STA_UNSYNC
            and self.maxerror_us < MAXERROR_LIMIT_US
        )


_adjtimex: Callable[[ctypes.c_void_p], int] | None = None
_adjtimex_looked_up = False


def _libc_adjtimex() -> Callable[..., int] | None:
    global _adjtimex, _adjtimex_looked_up
    if not _adjtimex_looked_up:
        _adjtimex_looked_up = True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            _adjtimex = libc.adjtimex
        except (OSError, AttributeError):
            _adjtimex = None
    return _adjtimex


def kernel_time_status() -> KernelTimeStatus | None:
    """The kernel's time status (read only), or None where adjtimex(2) is unavailable."""
    adjtimex = _libc_adjtimex()
    if adjtimex is None:
        return None
    tx = _Timex()  # modes = 0: read, change nothing
    state = int(adjtimex(ctypes.byref(tx)))
    if state < 0:
        return None
    return KernelTimeStatus(state=state, status=int(tx.status), maxerror_us=int(tx.maxerror))


def parse_timedatectl(text: str) -> bool | None:
    """`timedatectl show -p NTPSynchronized [--value]` output: True, False, or None when it is
    not that property (an error message, an empty answer)."""
    for line in text.splitlines():
        value = line.strip()
        if value.startswith("NTPSynchronized="):
            value = value.removeprefix("NTPSynchronized=")
        if value in ("yes", "no"):
            return value == "yes"
    return None


def _timedatectl_synced(timeout_s: float = 2.0) -> bool | None:
    binary = shutil.which("timedatectl")
    if binary is None:
        return None
    try:
        done = subprocess.run(
            [binary, "show", "-p", "NTPSynchronized"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_timedatectl(done.stdout) if done.returncode == 0 else None


class ClockSync:
    """`clock_synced()` for the journal: the kernel's state at every call; the slower fallbacks
    (a `timedatectl` process, the flag file) at most once per `fallback_ttl_s`. Thread-safe."""

    def __init__(
        self,
        *,
        kernel: Callable[[], KernelTimeStatus | None] = kernel_time_status,
        timedatectl: Callable[[], bool | None] = _timedatectl_synced,
        flag_file: Path = TIMESYNC_FLAG,
        monotonic: Callable[[], float] = time.monotonic,
        fallback_ttl_s: float = 60.0,
    ) -> None:
        self._kernel = kernel
        self._timedatectl = timedatectl
        self._flag_file = flag_file
        self._monotonic = monotonic
        self._ttl = fallback_ttl_s
        self._lock = threading.Lock()
        self._cached: tuple[float, bool] | None = None
        self.source = ""  # which source decided last: "kernel", "timedatectl", "flag", "none"

    def __call__(self) -> bool:
        status = self._kernel()
        if status is not None:
            self.source = "kernel"
            return status.synchronised
        with self._lock:
            now = self._monotonic()
            if self._cached is not None and now - self._cached[0] < self._ttl:
                return self._cached[1]
            answer = self._timedatectl()
            if answer is not None:
                self.source = "timedatectl"
            elif self._flag_file.exists():
                self.source, answer = "flag", True
            else:
                self.source, answer = "none", False
            self._cached = (now, answer)
            return answer


system_clock_synced = ClockSync()
"""The process-wide decision, for `Journal(clock_synced=...)` and the doctor."""
