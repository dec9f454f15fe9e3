"""The outbox drain: journal rows onto the wire at a bounded rate, business before telemetry.

A business row is finished only when the central's receipt names its key (never on PUBACK: a
broker may lose what it acknowledged); without a receipt it is re-sent, with the same bytes and
key, after `receipt_timeout_s`, or at once when the central announces it is (back) online
(`resend_unreceipted`). Telemetry rows are finished on PUBACK (fire-and-forget at the
application level). A permanent rejection moves the row to `dead` with the reason. Every
publish is counted on its row (`attempts`) and in the journal's lifetime counters by the
receipt thread, along with its next batch (never a write per publish on the drain thread).
"""

from __future__ import annotations

import collections
import logging
import threading
from dataclasses import dataclass

from kiosk.clock import Clock
from kiosk.config.mqtt import MqttConfig
from kiosk.contract import KIOSK_PUBLISHES, EventReceipt, ReceiptOutcome, topic
from kiosk.journal.store import Journal, Lane, OutboxRow
from kiosk.sync.edge import Accepted
from kiosk.sync.transport import PublishHandle, Transport

__all__ = ["OutboxDrainer", "TokenBucket"]

log = logging.getLogger("kiosk.sync.drain")
BATCH = 200


class TokenBucket:
    """`rate` tokens per second up to `burst`; `take()` says how long to wait for one."""

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock.monotonic()

    def take(self) -> float:
        """Consume a token and return 0, or return the seconds until one is available."""
        now = self._clock.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


@dataclass(slots=True)
class _Flight:
    handle: PublishHandle
    row: OutboxRow


class OutboxDrainer:
    """Drains the journal outbox on its own thread while the transport is connected."""

    def __init__(
        self, journal: Journal, transport: Transport, config: MqttConfig, clock: Clock
    ) -> None:
        self._journal = journal
        self._transport = transport
        self.config = config
        self._clock = clock
        self._bucket = TokenBucket(config.drain_rate_per_s, config.drain_burst, clock)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._receipts: collections.deque[EventReceipt] = collections.deque()
        self._flights: collections.deque[_Flight] = collections.deque()
        self._sent_at: dict[str, float] = {}  # business msg_id -> monotonic time last sent
        self._sent_lock = threading.Lock()
        # Finished rows are committed by a second thread in batches, so that the fsync of
        # `mark_done` never stalls publishing (measured: ~15 % of the drain thread's time).
        self._apply_wake = threading.Event()
        self._applier: threading.Thread | None = None
        self._finished_telemetry: collections.deque[str] = collections.deque()
        self._attempted: collections.deque[str] = collections.deque()  # msg_ids published
        self._resend_all = threading.Event()
        self._cursor = {Lane.BUSINESS: 0, Lane.TELEMETRY: 0}
        self._topics = {ch: topic(journal.terminal_id, ch) for ch in KIOSK_PUBLISHES}
        self.published = 0
        self.resent = 0
        self.receipted = 0
        self.dead = 0
        self.resend_passes = 0  # immediate re-send passes (the central's births)

    # ------------------------------------------------------------------ public (any thread)

    def start(self) -> None:
        """Start the drain thread and the receipt applier thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-drain", daemon=True)
            self._thread.start()
            self._applier = threading.Thread(
                target=self._apply_loop, name="outbox-receipts", daemon=True
            )
            self._applier.start()

    def stop(self) -> None:
        """Stop both threads, finishing the receipts already received."""
        self._stop.set()
        self._wake.set()
        self._apply_wake.set()
        for thread in (self._thread, self._applier):
            if thread is not None:
                thread.join(timeout=5)
        self._thread = self._applier = None
        self._apply_finished()

    def wake(self) -> None:
        """New rows were written: look at once instead of at the next poll."""
        self._wake.set()

    def on_connected(self, session_present: bool) -> None:
        """A (re)connection: re-send telemetry rows whose PUBACK was lost with the socket."""
        self._cursor[Lane.TELEMETRY] = 0
        self._wake.set()

    @property
    def unacknowledged(self) -> int:
        """Publishes the broker has not acknowledged yet (as of the drain thread's last look)."""
        return len(self._flights)

    def resend_unreceipted(self) -> None:
        """Make every unreceipted business row due now (any thread): the next pass re-sends
        them from the oldest, whatever their `receipt_timeout_s`."""
        self._resend_all.set()
        self._wake.set()

    def on_receipt(self, accepted: Accepted) -> None:
        """Router handler for ``events/receipt`` (network thread): queued, applied in batches."""
        receipt = accepted.message
        assert isinstance(receipt, EventReceipt)
        self._receipts.append(receipt)
        if len(self._receipts) >= BATCH:
            self._apply_wake.set()

    # ------------------------------------------------------------------ drain thread

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._reap_flights()
                if not self._transport.connected:
                    self._wake.wait(self.config.idle_poll_s)
                    self._wake.clear()
                    continue
                if not self._drain_some():
                    self._wake.wait(self.config.idle_poll_s)
                    self._wake.clear()
            except Exception:
                # The drain must outlive any bug in one pass; the rows stay in the journal.
                log.exception("outbox drain pass failed")
                self._stop.wait(self.config.idle_poll_s)

    def _next_rows(self) -> list[OutboxRow]:
        if self._resend_all.is_set():
            self._resend_all.clear()
            with self._sent_lock:
                for msg_id in self._sent_at:
                    self._sent_at[msg_id] = -1e18  # still known as sent: counted as re-sends
            self._cursor[Lane.BUSINESS] = 0
            self.resend_passes += 1
            log.info("central online: re-sending every unreceipted row now")
        now = self._clock.monotonic()
        timeout = self.config.receipt_timeout_s
        lane = Lane.BUSINESS
        restarted = False
        while True:
            rows = self._journal.pending(lane, self._cursor[lane], BATCH)
            if not rows:
                if restarted or not self._resend_due(now - timeout):
                    break
                # End of the lane with rows still unreceipted: a re-send pass from the top.
                self._cursor[lane] = 0
                restarted = True
                continue
            self._cursor[lane] = rows[-1].id
            with self._sent_lock:
                sent = self._sent_at
                fresh = [r for r in rows if sent.get(r.msg_id, -1e18) <= now - timeout]
            if fresh:
                return fresh
        lane = Lane.TELEMETRY
        rows = self._journal.pending(lane, self._cursor[lane], BATCH)
        if rows:
            self._cursor[lane] = rows[-1].id
        return rows

    def _resend_due(self, sent_before: float) -> bool:
        # O(n) over unreceipted rows, but only when the lane is exhausted (once per pass).
        with self._sent_lock:
            return min(self._sent_at.values(), default=sent_before + 1) <= sent_before

    def _drain_some(self) -> bool:
        """Publish one batch; False when there was nothing to do."""
        rows = self._next_rows()
        if not rows:
            return False
        for row in rows:
            if self._stop.is_set() or not self._transport.connected:
                break
            wait = self._bucket.take()
            while wait > 0:
                if self._stop.wait(wait):
                    return True
                wait = self._bucket.take()
            self._wait_window()
            handle = self._transport.publish(self._topics[row.channel], row.payload, qos=1)
            self._flights.append(_Flight(handle, row))
            self.published += 1
            self._attempted.append(row.msg_id)
            if row.lane is Lane.BUSINESS:
                with self._sent_lock:
                    # Sent before by this process, or by an earlier one (its attempts).
                    if row.msg_id in self._sent_at or row.attempts > 0:
                        self.resent += 1
                    self._sent_at[row.msg_id] = self._clock.monotonic()
        return True

    def _wait_window(self) -> None:
        """Keep at most `max_inflight` unacknowledged publishes (respects the broker's window)."""
        self._reap_flights()
        acked = getattr(self._transport, "acked", None)
        while len(self._flights) >= self.config.max_inflight and not self._stop.is_set():
            if not self._transport.connected:
                self._flights.clear()  # paho re-sends its own in-flight messages on reconnect
                return
            if acked is not None:
                with acked:
                    acked.wait(0.05)
            else:
                self._stop.wait(0.005)
            self._reap_flights()

    def _reap_flights(self) -> None:
        flights = self._flights
        # PUBACKs come (nearly) in order: reap from the head.
        while flights and flights[0].handle.is_published():
            f = flights.popleft()
            if f.row.lane is Lane.TELEMETRY:
                self._finished_telemetry.append(f.row.msg_id)
        if len(self._finished_telemetry) >= BATCH:
            self._apply_wake.set()

    # ------------------------------------------------------------------ receipt thread

    def _apply_loop(self) -> None:
        while not self._stop.is_set():
            self._apply_wake.wait(self.config.idle_poll_s)
            self._apply_wake.clear()
            try:
                self._apply_finished()
            except Exception:
                log.exception("applying receipts failed")

    def _apply_finished(self) -> None:
        """Commit receipts and acknowledged telemetry, one transaction per batch."""
        attempted: list[str] = []
        while self._attempted:
            attempted.append(self._attempted.popleft())
        if attempted:  # before the deletions and receipts below: they may finish these rows
            self._journal.record_attempts(attempted)
        telemetry: list[str] = []
        while self._finished_telemetry:
            telemetry.append(self._finished_telemetry.popleft())
        if telemetry:
            self._journal.delete_rows(telemetry)
        done: list[str] = []
        while self._receipts:
            r = self._receipts.popleft()
            if r.outcome in (ReceiptOutcome.ACCEPTED, ReceiptOutcome.DUPLICATE):
                done.append(r.msg_id)
            elif r.permanent:
                self._journal.mark_dead(r.msg_id, r.reason or "rejected by the central")
                self.dead += 1
            else:
                log.info("event %s refused for now: %s", r.msg_id, r.reason)
                continue
            with self._sent_lock:
                self._sent_at.pop(r.msg_id, None)
        if done:
            self.receipted += self._journal.mark_done(done)
