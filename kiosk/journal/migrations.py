"""Forward-only schema migrations of the journal; version N is `MIGRATIONS[N-1]`.

Never edit a migration that has shipped: add the next one. Tests build a file at every earlier
version and open it with the current code.
"""

from __future__ import annotations

__all__ = ["LATEST_VERSION", "MIGRATIONS"]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the first outbox
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            msg_id TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL,
            payload BLOB NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            created_wall REAL NOT NULL
        )""",
    ),
    # 2: lanes (business before telemetry), data classes with retention, dead rows with reasons
    (
        "ALTER TABLE outbox ADD COLUMN lane INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN data_class TEXT NOT NULL DEFAULT 'audit'",
        "ALTER TABLE outbox ADD COLUMN encrypted INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN done_wall REAL",
        "ALTER TABLE outbox ADD COLUMN dead_reason TEXT",
        "CREATE INDEX outbox_pending ON outbox (state, lane, id)",
    ),
    # 3: business transactions: payments, sagas; executed commands (replay protection)
    (
        """CREATE TABLE payments (
            payment_key TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            purpose TEXT NOT NULL,
            reference TEXT NOT NULL,
            amount_cents INTEGER NOT NULL,
            request BLOB NOT NULL,
            deadline REAL NOT NULL,
            created_wall REAL NOT NULL,
            updated_wall REAL NOT NULL,
            result TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX payments_state ON payments (state)",
        """CREATE TABLE sagas (
            saga_key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            step TEXT NOT NULL,
            state TEXT NOT NULL,
            data BLOB NOT NULL,
            created_wall REAL NOT NULL,
            updated_wall REAL NOT NULL
        )""",
        "CREATE INDEX sagas_state ON sagas (state)",
        """CREATE TABLE commands (
            command_id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            at_wall REAL NOT NULL
        )""",
    ),
    # 4: re-sends made visible: when each row was last published (attempts counts them)
    ("ALTER TABLE outbox ADD COLUMN last_attempt_wall REAL",),
)

LATEST_VERSION = len(MIGRATIONS)
