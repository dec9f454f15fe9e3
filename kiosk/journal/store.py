"""The journal store: one SQLite file (WAL, synchronous=FULL) behind a thread-safe API.

Every write that must survive a power cut commits with ``synchronous=FULL`` before the caller
goes on; a business write and its outbox row share one transaction (`transaction()`), before
anything goes on the wire. The message envelope (terminal id, boot id, seq, monotonic and wall
time, clock-synced flag) is stamped here, once, so a retry re-sends the very same bytes.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

from kiosk.clock import Clock, system_clock_synced
from kiosk.config.journal import JournalConfig
from kiosk.contract import (
    CONTRACT_VERSION,
    MAX_PAYLOAD_BYTES,
    BusinessEvent,
    Channel,
    EventKind,
    Message,
    encode,
    new_msg_id,
)
from kiosk.journal.crypto import Sealer
from kiosk.journal.errors import JournalCorruptError, JournalError, JournalMigrationError
from kiosk.journal.migrations import LATEST_VERSION, MIGRATIONS

__all__ = ["DataClass", "Journal", "Lane", "OutboxRow", "OutboxStats", "PaymentRow", "SagaRow"]

log = logging.getLogger("kiosk.journal")
DAY = 86_400.0
SEQ_BLOCK = 1000


class DataClass(StrEnum):
    """Retention class of a row (JournalConfig sets the days of each)."""

    PERSONAL = "personal"  # encrypted at rest, purged N days after confirmation
    AUDIT = "audit"  # kept for years
    OPERATIONAL = "operational"  # telemetry, statistics: short


class Lane(IntEnum):
    """Drain priority: lower drains first."""

    BUSINESS = 0
    TELEMETRY = 1


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message waiting for the wire; `payload` is the exact bytes to publish."""

    id: int
    msg_id: str
    lane: Lane
    channel: Channel
    payload: bytes
    data_class: DataClass
    attempts: int
    created_wall: float


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """Backlog figures for telemetry and `kiosk sync status`."""

    depth: int  # business rows not yet receipted
    telemetry_depth: int
    oldest_age_s: float
    dead: int
    done: int


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """A payment as the kiosk knows it; `request` holds the (decrypted) personal params."""

    payment_key: str
    state: str
    purpose: str
    reference: str
    amount_cents: int
    request: dict[str, Any]
    deadline: float
    created_wall: float
    updated_wall: float
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SagaRow:
    """A business transaction in progress or finished; `data` is decrypted."""

    saga_key: str
    kind: str
    step: str
    state: str
    data: dict[str, Any]
    created_wall: float
    updated_wall: float


class Journal:
    """The kiosk's durable state. Thread-safe: one connection guarded by a lock.

    Raises `JournalCorruptError` at open when the integrity check fails, `JournalMigrationError`
    when the file is newer than this code.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        config: JournalConfig,
        sealer: Sealer,
        clock: Clock,
        terminal_id: str,
        boot_id: str,
        clock_synced: Callable[[], bool] = system_clock_synced,
    ) -> None:
        self.path = Path(path)
        self.config = config
        self._sealer = sealer
        self._clock = clock
        self.terminal_id = terminal_id
        self.boot_id = boot_id
        self._clock_synced = clock_synced
        self._lock = threading.RLock()
        self._seq_next = 0
        self._seq_limit = 0  # exclusive; 0 = read the mark from the file first
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(self.path),
            timeout=config.busy_timeout_s,
            isolation_level=None,  # we issue BEGIN IMMEDIATE ourselves
            check_same_thread=False,
        )
        self._db.row_factory = sqlite3.Row
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    # ------------------------------------------------------------------ lifecycle

    def _open(self) -> None:
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a committed row survives a power cut
        db.execute("PRAGMA foreign_keys=ON")
        try:
            result = [r[0] for r in db.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as e:
            raise JournalCorruptError(f"journal {self.path} is not a database: {e}") from None
        if result != ["ok"]:
            raise JournalCorruptError(f"journal {self.path} integrity check: {result[:5]}")
        self.migrate()

    def schema_version(self) -> int:
        """The file's schema version (PRAGMA user_version)."""
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        """Apply every missing migration, each in its own transaction. Returns the version."""
        with self._lock:
            current = self.schema_version()
            if current > LATEST_VERSION:
                raise JournalMigrationError(
                    f"journal schema {current} is newer than this software ({LATEST_VERSION})"
                )
            for version in range(current + 1, LATEST_VERSION + 1):
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    for statement in MIGRATIONS[version - 1]:
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={version}")
                    self._db.execute("COMMIT")
                except sqlite3.Error as e:
                    self._db.execute("ROLLBACK")
                    raise JournalMigrationError(f"migration to {version} failed: {e}") from e
                log.info("journal migrated to schema %d", version)
            return LATEST_VERSION

    def close(self) -> None:
        """Close the file. Idempotent."""
        with self._lock, suppress(sqlite3.Error):
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One durable SQLite transaction (BEGIN IMMEDIATE ... COMMIT, fsync'ed).

        Nest-safe: an inner `transaction()` joins the outer one. Any exception rolls back.
        """
        with self._lock:
            if self._db.in_transaction:
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                self._seq_limit = 0  # a reservation made in this transaction is gone too
                raise
            self._db.execute("COMMIT")

    # ------------------------------------------------------------------ meta

    def meta_get(self, key: str, default: str | None = None) -> str | None:
        """A value of the meta table."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            return default if row is None else str(row[0])

    def meta_set(self, key: str, value: str) -> None:
        """Set a value of the meta table (durable)."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _next_seq(self, db: sqlite3.Connection) -> int:
        # Sequence numbers are reserved durably in blocks (one fsync per SEQ_BLOCK messages,
        # not per message): after a crash the next boot starts above the reserved mark, so seq
        # stays monotonic per terminal across boots; the gap is announced by the new boot_id.
        if self._seq_next >= self._seq_limit:
            row = db.execute("SELECT value FROM meta WHERE key='seq'").fetchone()
            mark = max(int(row[0]) if row else 0, self._seq_next)
            self._seq_limit = mark + SEQ_BLOCK
            self._seq_next = mark
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)",
                (str(self._seq_limit),),
            )
        self._seq_next += 1
        return self._seq_next

    def stamp(self, db: sqlite3.Connection | None = None) -> dict[str, Any]:
        """The envelope fields of a new message (allocates the next seq durably)."""
        with self.transaction() as tx:
            seq = self._next_seq(db or tx)
        return {
            "v": CONTRACT_VERSION,
            "msg_id": new_msg_id(),
            "terminal_id": self.terminal_id,
            "boot_id": self.boot_id,
            "seq": seq,
            "mono": max(0.0, self._clock.monotonic()),
            "wall": max(0.0, self._clock.wall()),
            "clock_synced": self._clock_synced(),
        }

    # ------------------------------------------------------------------ outbox

    def enqueue_event(
        self,
        kind: EventKind,
        data: dict[str, Any],
        data_class: DataClass = DataClass.AUDIT,
        *,
        db: sqlite3.Connection | None = None,
    ) -> str:
        """Write a business event to the outbox; returns its msg_id (the idempotency key).

        Pass `db` from `transaction()` to commit it together with a business write.
        """
        with self.transaction() as tx:
            env = self.stamp(tx)
            message = BusinessEvent(kind=kind, data=data, **env)
            self._insert(tx, message, env, Channel.EVENTS, Lane.BUSINESS, data_class)
        return str(env["msg_id"])

    def enqueue_message(
        self,
        build: Callable[[dict[str, Any]], Message],
        channel: Channel,
        lane: Lane,
        data_class: DataClass = DataClass.OPERATIONAL,
    ) -> str:
        """Write any envelope message built by `build(envelope_fields)`; returns its msg_id.

        Telemetry rows beyond `max_telemetry_backlog` are dropped oldest first (counted).
        """
        with self.transaction() as tx:
            env = self.stamp(tx)
            self._insert(tx, build(env), env, channel, lane, data_class)
            if lane is Lane.TELEMETRY:
                excess = (
                    tx.execute(
                        "SELECT COUNT(*) FROM outbox WHERE state='pending' AND lane=?", (int(lane),)
                    ).fetchone()[0]
                    - self.config.max_telemetry_backlog
                )
                if excess > 0:
                    tx.execute(
                        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE "
                        "state='pending' AND lane=? ORDER BY id LIMIT ?)",
                        (int(lane), excess),
                    )
                    self._bump(tx, "telemetry_dropped", excess)
        return str(env["msg_id"])

    def _bump(self, db: sqlite3.Connection, key: str, by: int = 1) -> None:
        row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        value = int(row[0]) + by if row else by
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))

    def _insert(
        self,
        db: sqlite3.Connection,
        message: Message,
        env: dict[str, Any],
        channel: Channel,
        lane: Lane,
        data_class: DataClass,
    ) -> None:
        payload = encode(message)
        if len(payload) > MAX_PAYLOAD_BYTES:
            # Refused at creation: the broker and the central would refuse it on every retry.
            raise ValueError(f"message of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
        encrypted = data_class is DataClass.PERSONAL
        if encrypted:
            payload = self._sealer.seal(payload, env["msg_id"])
        db.execute(
            "INSERT INTO outbox (msg_id, channel, payload, state, attempts, created_wall, lane, "
            "data_class, encrypted) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?)",
            (
                env["msg_id"],
                channel.value,
                payload,
                env["wall"],
                int(lane),
                data_class.value,
                int(encrypted),
            ),
        )

    def _row(self, r: sqlite3.Row) -> OutboxRow:
        payload = bytes(r["payload"])
        if r["encrypted"]:
            payload = self._sealer.open(payload, r["msg_id"])
        return OutboxRow(
            id=int(r["id"]),
            msg_id=str(r["msg_id"]),
            lane=Lane(int(r["lane"])),
            channel=Channel(r["channel"]),
            payload=payload,
            data_class=DataClass(r["data_class"]),
            attempts=int(r["attempts"]),
            created_wall=float(r["created_wall"]),
        )

    def pending(self, lane: Lane, after_id: int = 0, limit: int = 100) -> list[OutboxRow]:
        """Pending rows of one lane with id > `after_id`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM outbox WHERE state='pending' AND lane=? AND id>? "
                "ORDER BY id LIMIT ?",
                (int(lane), after_id, limit),
            ).fetchall()
        out = []
        for r in rows:
            try:
                out.append(self._row(r))
            except JournalError as e:
                # An undecryptable row cannot ever be sent: dead, with the reason, never silent.
                self.mark_dead(str(r["msg_id"]), f"unreadable: {e}")
        return out

    def mark_done(self, msg_ids: Iterable[str]) -> int:
        """Finish rows (receipt, or PUBACK for telemetry). One transaction; returns the count."""
        ids = list(msg_ids)
        if not ids:
            return 0
        now = self._clock.wall()
        with self.transaction() as db:
            n = 0
            for chunk in range(0, len(ids), 500):
                part = ids[chunk : chunk + 500]
                marks = ",".join("?" * len(part))
                n += db.execute(
                    f"UPDATE outbox SET state='done', done_wall=? WHERE state='pending' "
                    f"AND msg_id IN ({marks})",
                    (now, *part),
                ).rowcount
        return n

    def delete_rows(self, msg_ids: Iterable[str]) -> None:
        """Remove rows outright (telemetry after PUBACK: nothing to keep)."""
        ids = list(msg_ids)
        with self.transaction() as db:
            db.executemany("DELETE FROM outbox WHERE msg_id=?", [(i,) for i in ids])

    def mark_dead(self, msg_id: str, reason: str) -> None:
        """A row the central rejected for good: kept as `dead` with its reason (counted)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET state='dead', dead_reason=?, done_wall=? WHERE msg_id=?",
                (reason[:500], self._clock.wall(), msg_id),
            )
        log.warning("outbox row %s is dead: %s", msg_id, reason)

    def note_attempt(self, msg_ids: Iterable[str]) -> None:
        """Count publish attempts (one transaction for a batch)."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE outbox SET attempts=attempts+1 WHERE msg_id=?", [(i,) for i in msg_ids]
            )

    def row_state(self, msg_id: str) -> tuple[str, str | None] | None:
        """(state, dead_reason) of one row, or None."""
        with self._lock:
            r = self._db.execute(
                "SELECT state, dead_reason FROM outbox WHERE msg_id=?", (msg_id,)
            ).fetchone()
        return None if r is None else (str(r[0]), r[1])

    def dead_rows(self) -> list[tuple[str, str]]:
        """(msg_id, reason) of every dead row."""
        with self._lock:
            rows = self._db.execute(
                "SELECT msg_id, dead_reason FROM outbox WHERE state='dead' ORDER BY id"
            ).fetchall()
        return [(str(r[0]), str(r[1] or "")) for r in rows]

    def stats(self) -> OutboxStats:
        """Backlog figures."""
        with self._lock:
            db = self._db
            depth, oldest = db.execute(
                "SELECT COUNT(*), MIN(created_wall) FROM outbox WHERE state='pending' AND lane=0"
            ).fetchone()
            tdepth = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE state='pending' AND lane=1"
            ).fetchone()[0]
            dead = db.execute("SELECT COUNT(*) FROM outbox WHERE state='dead'").fetchone()[0]
            done = db.execute("SELECT COUNT(*) FROM outbox WHERE state='done'").fetchone()[0]
        age = max(0.0, self._clock.wall() - oldest) if oldest is not None else 0.0
        return OutboxStats(int(depth), int(tdepth), age, int(dead), int(done))

    def purge(self) -> int:
        """Apply retention: delete finished rows past their class's days. Returns the count."""
        now = self._clock.wall()
        c = self.config
        days = {
            DataClass.PERSONAL: c.personal_retention_days,
            DataClass.AUDIT: c.audit_retention_days,
            DataClass.OPERATIONAL: c.operational_retention_days,
        }
        n = 0
        with self.transaction() as db:
            for cls, d in days.items():
                n += db.execute(
                    "DELETE FROM outbox WHERE state IN ('done', 'dead') AND data_class=? "
                    "AND done_wall < ?",
                    (cls.value, now - d * DAY),
                ).rowcount
            # Personal request data of finished payments and sagas goes with the same clock.
            cutoff = now - c.personal_retention_days * DAY
            n += db.execute(
                "UPDATE payments SET request=X'' WHERE state IN ('accepted','declined','void') "
                "AND updated_wall < ? AND length(request) > 0",
                (cutoff,),
            ).rowcount
            n += db.execute(
                "UPDATE sagas SET data=X'' WHERE state IN ('done','compensated','failed') "
                "AND updated_wall < ? AND length(data) > 0",
                (cutoff,),
            ).rowcount
            db.execute(
                "DELETE FROM commands WHERE at_wall < ?", (now - c.command_memory_days * DAY,)
            )
        return n

    # ------------------------------------------------------------------ payments

    def _seal_json(self, data: dict[str, Any], context: str) -> bytes:
        return self._sealer.seal(json.dumps(data, sort_keys=True).encode(), context)

    def _open_json(self, blob: bytes, context: str) -> dict[str, Any]:
        if not blob:
            return {}  # purged by retention
        value = json.loads(self._sealer.open(bytes(blob), context))
        return value if isinstance(value, dict) else {}

    def payment_create(
        self,
        payment_key: str,
        *,
        purpose: str,
        reference: str,
        amount_cents: int,
        request: dict[str, Any],
        deadline: float,
        state: str = "sending",
    ) -> None:
        """Record a payment BEFORE it is sent (state `sending`: a crash then means unknown)."""
        now = self._clock.wall()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO payments (payment_key, state, purpose, reference, amount_cents, "
                "request, deadline, created_wall, updated_wall) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    payment_key,
                    state,
                    purpose,
                    reference,
                    amount_cents,
                    self._seal_json(request, payment_key),
                    deadline,
                    now,
                    now,
                ),
            )

    def payment_update(self, payment_key: str, state: str, result: dict[str, Any]) -> None:
        """Set a payment's state and the central's answer."""
        with self.transaction() as db:
            db.execute(
                "UPDATE payments SET state=?, result=?, updated_wall=? WHERE payment_key=?",
                (state, json.dumps(result, sort_keys=True), self._clock.wall(), payment_key),
            )

    def _payment(self, r: sqlite3.Row) -> PaymentRow:
        return PaymentRow(
            payment_key=str(r["payment_key"]),
            state=str(r["state"]),
            purpose=str(r["purpose"]),
            reference=str(r["reference"]),
            amount_cents=int(r["amount_cents"]),
            request=self._open_json(r["request"], str(r["payment_key"])),
            deadline=float(r["deadline"]),
            created_wall=float(r["created_wall"]),
            updated_wall=float(r["updated_wall"]),
            result=json.loads(r["result"]) if r["result"] else {},
        )

    def payment_get(self, payment_key: str) -> PaymentRow | None:
        """One payment, or None."""
        with self._lock:
            r = self._db.execute(
                "SELECT * FROM payments WHERE payment_key=?", (payment_key,)
            ).fetchone()
        return None if r is None else self._payment(r)

    def payments(self, states: Iterable[str] | None = None) -> list[PaymentRow]:
        """Payments, oldest first, optionally only in `states`."""
        with self._lock:
            if states is None:
                rows = self._db.execute("SELECT * FROM payments ORDER BY created_wall").fetchall()
            else:
                st = list(states)
                marks = ",".join("?" * len(st))
                rows = self._db.execute(
                    f"SELECT * FROM payments WHERE state IN ({marks}) ORDER BY created_wall", st
                ).fetchall()
        return [self._payment(r) for r in rows]

    # ------------------------------------------------------------------ sagas

    def saga_create(self, saga_key: str, kind: str, step: str, data: dict[str, Any]) -> None:
        """Record a new saga (state `running`)."""
        now = self._clock.wall()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sagas (saga_key, kind, step, state, data, created_wall, "
                "updated_wall) VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (saga_key, kind, step, self._seal_json(data, saga_key), now, now),
            )

    def saga_update(
        self,
        saga_key: str,
        *,
        step: str,
        state: str = "running",
        data: dict[str, Any] | None = None,
        db: sqlite3.Connection | None = None,
    ) -> None:
        """Move a saga to `step` (and `state`), durably; pass `db` to join a transaction."""
        with self.transaction() as tx:
            conn = db or tx
            if data is None:
                conn.execute(
                    "UPDATE sagas SET step=?, state=?, updated_wall=? WHERE saga_key=?",
                    (step, state, self._clock.wall(), saga_key),
                )
            else:
                conn.execute(
                    "UPDATE sagas SET step=?, state=?, data=?, updated_wall=? WHERE saga_key=?",
                    (step, state, self._seal_json(data, saga_key), self._clock.wall(), saga_key),
                )

    def _saga(self, r: sqlite3.Row) -> SagaRow:
        return SagaRow(
            saga_key=str(r["saga_key"]),
            kind=str(r["kind"]),
            step=str(r["step"]),
            state=str(r["state"]),
            data=self._open_json(r["data"], str(r["saga_key"])),
            created_wall=float(r["created_wall"]),
            updated_wall=float(r["updated_wall"]),
        )

    def saga_get(self, saga_key: str) -> SagaRow | None:
        """One saga, or None."""
        with self._lock:
            r = self._db.execute("SELECT * FROM sagas WHERE saga_key=?", (saga_key,)).fetchone()
        return None if r is None else self._saga(r)

    def sagas(self, kind: str | None = None, state: str | None = None) -> list[SagaRow]:
        """Sagas, oldest first, filtered by kind and state."""
        query, args = "SELECT * FROM sagas WHERE 1=1", []
        if kind is not None:
            query += " AND kind=?"
            args.append(kind)
        if state is not None:
            query += " AND state=?"
            args.append(state)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY created_wall", args).fetchall()
        return [self._saga(r) for r in rows]

    # ------------------------------------------------------------------ commands

    def command_seen(self, command_id: str) -> bool:
        """True when this command id was already handled (replay protection)."""
        with self._lock:
            return (
                self._db.execute(
                    "SELECT 1 FROM commands WHERE command_id=?", (command_id,)
                ).fetchone()
                is not None
            )

    def command_record(self, command_id: str, status: str) -> bool:
        """Remember a command id; False when it was already there (a replay)."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO commands (command_id, status, at_wall) VALUES (?, ?, ?)",
                (command_id, status, self._clock.wall()),
            )
            return cur.rowcount == 1

    def counter(self, key: str) -> int:
        """A persisted counter of the meta table (e.g. telemetry_dropped)."""
        value = self.meta_get(key)
        return int(value) if value else 0
