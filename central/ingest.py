"""Telemetry ingest: the latest report of every terminal, kept in memory and written in batches.

At fleet scale (10,000 terminals, one report per 10 s each) one database write per message would
be the bottleneck; the last-seen row per terminal is what the fleet needs, so reports are
coalesced per terminal and upserted every `flush_s` in one transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from central.storage import Storage
from kiosk.contract import Telemetry

__all__ = ["TelemetryIngest", "TerminalSeen"]

logger = logging.getLogger("central.ingest")


def _newer(column: str) -> str:
    """SQL: the stored column, replaced only by a report with a higher or equal `seq` (another
    worker may flush an older report of the same terminal after a newer one). Every SET
    expression sees the old row, on SQLite as on PostgreSQL, so the order of the columns is free."""
    return (
        f"CASE WHEN excluded.last_seq >= terminals.last_seq THEN excluded.{column}"
        f" ELSE terminals.{column} END"
    )


@dataclass(frozen=True, slots=True)
class TerminalSeen:
    """The newest telemetry of one terminal, as it will be stored."""

    terminal_id: str
    boot_id: str
    seq: int
    received_at: float  # epoch seconds at the central
    telemetry_json: str
    messages: int  # reports coalesced into this row since the last flush


class TelemetryIngest:
    """Coalesces telemetry per terminal; `flush()` upserts the batch into `terminals`.

    Thread-safe: `ingest()` may run on the MQTT thread while `flush()` runs on a timer, but the
    `Storage` given is used only inside `flush()`, under the caller's storage lock.
    """

    def __init__(self, on_report: Callable[[Telemetry, float], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, TerminalSeen] = {}
        self._on_report = on_report
        self.received = 0  # every valid report, historical included
        self.flushed_rows = 0

    def ingest(self, report: Telemetry, received_at: float) -> None:
        """Take one validated report. A historical (backlog) report is counted but never
        replaces a current one (backfill never overwrites current state)."""
        with self._lock:
            self.received += 1
            old = self._pending.get(report.terminal_id)
            count = (old.messages if old else 0) + 1
            # Two workers (or redelivery) may see a terminal's reports out of order: the
            # per-terminal `seq` (monotonic across boots, contract) decides which is newest.
            if old is not None and (report.historical or report.seq < old.seq):
                self._pending[report.terminal_id] = TerminalSeen(
                    old.terminal_id,
                    old.boot_id,
                    old.seq,
                    old.received_at,
                    old.telemetry_json,
                    count,
                )
            else:
                self._pending[report.terminal_id] = TerminalSeen(
                    report.terminal_id,
                    report.boot_id,
                    report.seq,
                    received_at,
                    report.model_dump_json(),
                    count,
                )
        if self._on_report is not None:
            try:
                self._on_report(report, received_at)
            except Exception:  # a listener must not stop the ingest
                logger.exception("telemetry listener failed")

    def pending(self) -> int:
        """Terminals waiting for the next flush."""
        with self._lock:
            return len(self._pending)

    def flush(self, storage: Storage) -> int:
        """Write the coalesced rows (one transaction); returns how many. On a database error the
        rows are put back for the next flush and the error is raised."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        rows = [
            (s.terminal_id, s.boot_id, s.seq, s.received_at, s.telemetry_json, s.messages)
            for s in batch.values()
        ]
        try:
            with storage.transaction() as db:
                db.executemany(
                    "INSERT INTO terminals (terminal_id, boot_id, last_seq, last_seen, telemetry,"
                    " messages) VALUES (?,?,?,?,?,?) ON CONFLICT (terminal_id) DO UPDATE SET"
                    f" boot_id = {_newer('boot_id')}, telemetry = {_newer('telemetry')},"
                    f" last_seen = {_newer('last_seen')}, last_seq = {_newer('last_seq')},"
                    " messages = terminals.messages + excluded.messages",
                    rows,
                )
        except Exception:
            with self._lock:
                for tid, seen in batch.items():
                    self._pending.setdefault(tid, seen)
            raise
        self.flushed_rows += len(rows)
        return len(rows)
