"""Storage of the central system on SQLite (default) or PostgreSQL (by URL), behind one small API.

SQL is written once with `?` placeholders and portable types; the PostgreSQL side rewrites the
placeholders to `%s` and `BLOB` to `BYTEA`. Both engines support `INSERT ... ON CONFLICT` and
`RETURNING`, which the ledger relies on for exactly-once. One `Storage` = one connection: use it
from one thread (each worker opens its own).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import psycopg

from central.config import StorageConfig, resolve_path
from central.errors import StorageDataError, StorageError

__all__ = ["SCHEMA", "SCHEMA_VERSION", "Row", "Storage", "open_storage"]

logger = logging.getLogger("central.storage")

Row = tuple[Any, ...]
SCHEMA_VERSION = 2

# Money is integer fen (1/100 yuan); times are Unix seconds (float); periods are "YYYY-MM".
SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS meta (
        key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS persons (
        id_number TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        sex TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        region TEXT NOT NULL,
        card_number TEXT NOT NULL,
        insured_since TEXT NOT NULL,
        status TEXT NOT NULL,
        employer TEXT NOT NULL,
        bank_account TEXT NOT NULL,
        profile TEXT,
        demo_finger TEXT,
        photo BLOB,
        finger_template BLOB)""",
    """CREATE TABLE IF NOT EXISTS contributions (
        id_number TEXT NOT NULL,
        insurance TEXT NOT NULL,
        period TEXT NOT NULL,
        base_cents BIGINT NOT NULL,
        employer_cents BIGINT NOT NULL,
        personal_cents BIGINT NOT NULL,
        paid INTEGER NOT NULL,
        PRIMARY KEY (id_number, insurance, period))""",
    # One flexible-employment contribution per person, insurance and month, whatever the
    # payment key (central/ledger.py): the primary key is what makes a second payment of the
    # same month fail, also when two arrive at once on two workers.
    """CREATE TABLE IF NOT EXISTS contribution_payments (
        id_number TEXT NOT NULL,
        insurance TEXT NOT NULL,
        period TEXT NOT NULL,
        payment_key TEXT NOT NULL,
        amount_cents BIGINT NOT NULL,
        paid_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (id_number, insurance, period))""",
    """CREATE TABLE IF NOT EXISTS accounts (
        id_number TEXT NOT NULL,
        kind TEXT NOT NULL,
        balance_cents BIGINT NOT NULL,
        contributed_cents BIGINT NOT NULL,
        interest_cents BIGINT NOT NULL,
        months INTEGER NOT NULL,
        as_of TEXT NOT NULL,
        PRIMARY KEY (id_number, kind))""",
    """CREATE TABLE IF NOT EXISTS benefits (
        id_number TEXT NOT NULL,
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        amount_cents BIGINT NOT NULL,
        paid_on TEXT NOT NULL,
        PRIMARY KEY (id_number, kind, period))""",
    """CREATE TABLE IF NOT EXISTS wallets (
        id_number TEXT PRIMARY KEY,
        balance_cents BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS bills (
        bill_id TEXT PRIMARY KEY,
        account_number TEXT NOT NULL,
        utility TEXT NOT NULL,
        holder_id TEXT NOT NULL,
        period TEXT NOT NULL,
        amount_cents BIGINT NOT NULL,
        due_date TEXT NOT NULL,
        status TEXT NOT NULL,
        paid_key TEXT)""",
    "CREATE INDEX IF NOT EXISTS bills_account ON bills (account_number)",
    """CREATE TABLE IF NOT EXISTS payments (
        payment_key TEXT PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        request_id TEXT NOT NULL,
        id_number TEXT NOT NULL,
        purpose TEXT NOT NULL,
        reference TEXT NOT NULL,
        amount_cents BIGINT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        receipt_no TEXT NOT NULL,
        balance_after_cents BIGINT,
        received_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS event_receipts (
        msg_id TEXT PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        boot_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        data TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS activations (
        activation_key TEXT PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        id_number TEXT NOT NULL,
        card_number TEXT NOT NULL,
        state TEXT NOT NULL,
        approval_id TEXT NOT NULL,
        record_sha256 TEXT NOT NULL,
        reason TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL)""",
    # --- central trust (central/trust.py) and the services (central/services.py)
    """CREATE TABLE IF NOT EXISTS cards (
        card_number TEXT PRIMARY KEY,
        card_id TEXT NOT NULL,
        id_number TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        state TEXT NOT NULL,
        state_changed_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS cards_person ON cards (id_number)",
    """CREATE TABLE IF NOT EXISTS session_challenges (
        challenge_id TEXT PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        challenge TEXT NOT NULL,
        purpose TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        used_at DOUBLE PRECISION)""",
    """CREATE TABLE IF NOT EXISTS affairs (
        request_key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        id_number TEXT NOT NULL,
        state TEXT NOT NULL,
        reference_no TEXT NOT NULL,
        reason TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS unemployment_registrations (
        id_number TEXT PRIMARY KEY,
        request_key TEXT NOT NULL,
        registered_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS courses (
        course_id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        category TEXT NOT NULL,
        start_date TEXT NOT NULL,
        hours INTEGER NOT NULL,
        seats INTEGER NOT NULL,
        seats_taken INTEGER NOT NULL,
        subsidised INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS course_signups (
        course_id TEXT NOT NULL,
        id_number TEXT NOT NULL,
        request_key TEXT NOT NULL,
        signed_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (course_id, id_number))""",
    """CREATE TABLE IF NOT EXISTS certificates (
        certificate_id TEXT PRIMARY KEY,
        request_key TEXT NOT NULL UNIQUE,
        verification_code TEXT NOT NULL UNIQUE,
        id_number TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        issued_at DOUBLE PRECISION NOT NULL,
        body TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS pension_qualifications (
        id_number TEXT NOT NULL,
        year INTEGER NOT NULL,
        request_key TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        method TEXT NOT NULL,
        recorded_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (id_number, year))""",
    """CREATE TABLE IF NOT EXISTS staff_alert_acks (
        alert_id TEXT PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        acked_by TEXT NOT NULL,
        acked_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS essc_codes (
        token_id TEXT PRIMARY KEY,
        id_number TEXT NOT NULL,
        bound_terminal TEXT,
        issued_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        used_at DOUBLE PRECISION,
        used_by TEXT)""",
    # ID card logins (central/idcard_login.py): the rate limit's window and the audit trail;
    # `subject` is a hash of the ID number, `id_masked` the masked number for staff.
    """CREATE TABLE IF NOT EXISTS idcard_login_attempts (
        terminal_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        id_masked TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        outcome TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS idcard_login_at ON idcard_login_attempts (at)",
    """CREATE TABLE IF NOT EXISTS terminals (
        terminal_id TEXT PRIMARY KEY,
        boot_id TEXT NOT NULL,
        last_seq BIGINT NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL,
        telemetry TEXT NOT NULL,
        messages BIGINT NOT NULL)""",
)


# Values the engine can never store (an int past 64 bits, a lone surrogate, PostgreSQL's data
# exceptions, class 22): the same row fails every time, so callers must not retry it.
_DATA_ERRORS = (OverflowError, UnicodeEncodeError, psycopg.DataError)


def _pg_sql(sql: str) -> str:
    return sql.replace("?", "%s").replace(" BLOB", " BYTEA")


class Storage:
    """One database connection with a portable `execute`/`query` API and explicit transactions.

    Not thread-safe: one `Storage` per thread. Errors of the engine are raised as `StorageError`
    keeping the engine's message.
    """

    def __init__(self, url: str, *, busy_timeout_s: float = 10.0, connect_timeout_s: float = 10.0):
        self.url = url
        self._in_tx = False
        self._connect_timeout = max(1, int(connect_timeout_s))
        self._sqlite: sqlite3.Connection | None = None
        self._pg: psycopg.Connection[Row] | None = None
        self.dialect: Literal["sqlite", "postgresql"]
        try:
            if url.startswith("sqlite://"):
                self.dialect = "sqlite"
                raw = url[len("sqlite://") :]
                target = raw[1:] if raw.startswith("/") else raw
                # sqlite:///var/x.db is relative, sqlite:////abs/x.db absolute (SQLAlchemy style)
                path = ":memory:" if target in ("", ":memory:") else str(resolve_path(target))
                if path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")  # a ledger: a commit survives power loss
                conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
                self._sqlite = conn
            else:
                self.dialect = "postgresql"
                self._pg = psycopg.connect(
                    url, autocommit=True, connect_timeout=self._connect_timeout
                )
        except (sqlite3.Error, psycopg.Error, OSError) as e:
            raise StorageError(f"cannot open {self.safe_url}: {e}") from e

    @property
    def safe_url(self) -> str:
        """The URL without a password, for logs and errors."""
        if "@" in self.url and "://" in self.url:
            scheme, rest = self.url.split("://", 1)
            cred, host = rest.rsplit("@", 1)
            return f"{scheme}://{cred.split(':', 1)[0]}@{host}"
        return self.url

    def _pg_conn(self) -> psycopg.Connection[Row]:
        """The PostgreSQL connection, reopened if the server dropped it (restart, failover,
        idle kill) while no transaction was open; the call that met the broken connection
        already failed with a (transient) StorageError."""
        assert self._pg is not None
        if (self._pg.broken or self._pg.closed) and not self._in_tx:
            logger.warning("database connection lost: reconnecting to %s", self.safe_url)
            try:
                self._pg = psycopg.connect(
                    self.url, autocommit=True, connect_timeout=self._connect_timeout
                )
            except psycopg.Error as e:
                raise StorageError(f"cannot reconnect to {self.safe_url}: {e}") from e
        return self._pg

    def _sql(self, sql: str) -> str:
        return _pg_sql(sql) if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the affected row count."""
        try:
            if self._sqlite is not None:
                return self._sqlite.execute(sql, params).rowcount
            with self._pg_conn().cursor() as cur:
                cur.execute(self._sql(sql), params)
                return cur.rowcount
        except _DATA_ERRORS as e:
            raise StorageDataError(str(e)[:300]) from e
        except (sqlite3.Error, psycopg.Error) as e:
            raise StorageError(str(e)) from e

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a statement that returns rows (SELECT, or INSERT ... RETURNING)."""
        try:
            if self._sqlite is not None:
                return [tuple(r) for r in self._sqlite.execute(sql, params).fetchall()]
            with self._pg_conn().cursor() as cur:
                cur.execute(self._sql(sql), params)
                return [tuple(r) for r in cur.fetchall()]
        except _DATA_ERRORS as e:
            raise StorageDataError(str(e)[:300]) from e
        except (sqlite3.Error, psycopg.Error) as e:
            raise StorageError(str(e)) from e

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row, or None."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows (bulk load)."""
        try:
            if self._sqlite is not None:
                self._sqlite.executemany(sql, rows)
                return
            with self._pg_conn().cursor() as cur:
                cur.executemany(self._sql(sql), rows)
        except _DATA_ERRORS as e:
            raise StorageDataError(str(e)[:300]) from e
        except (sqlite3.Error, psycopg.Error) as e:
            raise StorageError(str(e)) from e

    def bulk_insert(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Load many full rows into `table` (COPY on PostgreSQL, executemany on SQLite).
        `table` is one of our own names, never outside input."""
        if not rows:
            return
        if self._sqlite is not None:
            marks = ",".join("?" * len(rows[0]))
            self.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            return
        try:
            with self._pg_conn().cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except _DATA_ERRORS as e:
            raise StorageDataError(str(e)[:300]) from e
        except psycopg.Error as e:
            raise StorageError(str(e)) from e

    @contextmanager
    def transaction(self) -> Iterator[Storage]:
        """BEGIN (IMMEDIATE on SQLite: take the write lock now, not at the first write, so two
        writers cannot deadlock) ... COMMIT, or ROLLBACK on any exception. Not reentrant."""
        if self._in_tx:
            raise StorageError("transactions do not nest")
        self.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
        self._in_tx = True  # from here a lost connection is an error, never a silent reconnect
        try:
            yield self
            # A COMMIT that fails leaves the outcome unknown to us: the caller answers a
            # transient error and the kiosk retries the same key, which the ledger resolves.
            self.execute("COMMIT")
        except BaseException:
            try:
                self.execute("ROLLBACK")
            except StorageError:
                logger.warning("rollback failed (connection lost?)")
            raise
        finally:
            self._in_tx = False

    def create_schema(self) -> None:
        """Create missing tables (idempotent) and record the schema version."""
        with self.transaction():
            for stmt in SCHEMA:
                self.execute(stmt)
            self.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )

    def drop_all(self) -> None:
        """Drop every table of the schema (used by `kiosk-central seed` to recreate)."""
        names = [
            "meta",
            "persons",
            "contributions",
            "contribution_payments",
            "accounts",
            "benefits",
            "wallets",
            "bills",
            "payments",
            "event_receipts",
            "activations",
            "terminals",
            "cards",
            "session_challenges",
            "essc_codes",
            "idcard_login_attempts",
            "affairs",
            "unemployment_registrations",
            "courses",
            "course_signups",
            "certificates",
            "pension_qualifications",
            "staff_alert_acks",
        ]
        with self.transaction():
            for name in names:
                self.execute(f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            self._pg.close()
            self._pg = None

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_storage(config: StorageConfig) -> Storage:
    """Open the configured database (the schema is created by the caller: `create_schema`)."""
    return Storage(
        config.url, busy_timeout_s=config.busy_timeout_s, connect_timeout_s=config.connect_timeout_s
    )
