"""Journal: migrations from every earlier schema, integrity check, encryption, retention, seq."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.clock import FakeClock
from kiosk.config.journal import JournalConfig
from kiosk.contract import BusinessEvent, Channel, EventKind, decode
from kiosk.journal import (
    DEMO_KEY,
    LATEST_VERSION,
    MIGRATIONS,
    DataClass,
    Journal,
    JournalCorruptError,
    JournalError,
    JournalKeyError,
    JournalMigrationError,
    Lane,
    PaymentExistsError,
    Sealer,
    load_key,
)

KEY = bytes(range(32))


def make(path: Path, clock: FakeClock | None = None, key: bytes = KEY, boot: str = "b1") -> Journal:
    return Journal(
        path,
        config=JournalConfig(),
        sealer=Sealer(key),
        clock=clock or FakeClock(),
        terminal_id="SSK-T-0001",
        boot_id=boot,
        clock_synced=lambda: True,
    )


def build_at(path: Path, version: int) -> None:
    """A file at schema `version`, holding one outbox row written the way that version did."""
    db = sqlite3.connect(path)
    for statements in MIGRATIONS[:version]:
        for s in statements:
            db.execute(s)
    db.execute(f"PRAGMA user_version={version}")
    payload = b'{"v":1,"msg_id":"old-msg-0001","terminal_id":"SSK-T-0001","boot_id":"x",'
    payload += b'"seq":1,"wall":1.0,"kind":"audit","data":{}}'
    db.execute(
        "INSERT INTO outbox (msg_id, channel, payload, state, attempts, created_wall) "
        "VALUES ('old-msg-0001', 'events', ?, 'pending', 0, 1.0)",
        (payload,),
    )
    db.commit()
    db.close()


@pytest.mark.parametrize("version", range(1, LATEST_VERSION))
def test_every_earlier_schema_migrates_and_keeps_its_rows(tmp_path: Path, version: int) -> None:
    path = tmp_path / "j.sqlite3"
    build_at(path, version)
    j = make(path)
    try:
        assert j.schema_version() == LATEST_VERSION
        rows = j.pending(Lane.BUSINESS)
        assert [r.msg_id for r in rows] == ["old-msg-0001"]
        old = decode(BusinessEvent, rows[0].payload)  # a v1 message (N-1) still validates
        assert old.v == 1 and old.clock_synced is True
        assert rows[0].data_class is DataClass.AUDIT
        j.payment_create(
            "pay-00000001", purpose="p", reference="r", amount_cents=1, request={}, deadline=1
        )
        assert j.payment_get("pay-00000001") is not None
    finally:
        j.close()


@pytest.mark.parametrize("version", range(1, LATEST_VERSION))
def test_attempts_are_counted_on_rows_of_every_earlier_schema(tmp_path: Path, version: int) -> None:
    path = tmp_path / "j.sqlite3"
    build_at(path, version)
    clock = FakeClock()
    j = make(path, clock)
    try:
        assert j.record_attempts(["old-msg-0001"]) == 0  # its first publish
        clock.advance(5)
        assert j.record_attempts(["old-msg-0001"]) == 1  # a re-send
        [row] = j.pending(Lane.BUSINESS)
        assert row.attempts == 2
        stats = j.attempt_stats()
        assert stats == {
            "published": 2,
            "resent": 1,
            "receipted": 0,
            "awaiting_receipt": 1,
            "awaiting_resent_rows": 1,
            "max_attempts": 2,
            "oldest_wait_s": 0.0,  # last sent just now
        }
        clock.advance(7)
        assert j.attempt_stats()["oldest_wait_s"] == 7.0
        assert j.mark_done(["old-msg-0001"]) == 1
        stats = j.attempt_stats()
        assert stats["receipted"] == 1 and stats["awaiting_receipt"] == 0
    finally:
        j.close()
    j = make(path)  # the counters are the journal's, not the process's
    try:
        assert j.attempt_stats()["published"] == 2
    finally:
        j.close()


def test_a_payment_key_is_recorded_once(tmp_path: Path) -> None:
    j = make(tmp_path / "j.sqlite3")
    try:
        j.payment_create(
            "pay-00000002", purpose="p", reference="r", amount_cents=5, request={}, deadline=1
        )
        with pytest.raises(PaymentExistsError) as e:
            j.payment_create(
                "pay-00000002", purpose="q", reference="s", amount_cents=6, request={}, deadline=2
            )
        assert e.value.payment_key == "pay-00000002" and isinstance(e.value, JournalError)
        row = j.payment_get("pay-00000002")
        assert row is not None and row.amount_cents == 5 and row.purpose == "p"  # untouched
    finally:
        j.close()


def test_a_new_file_gets_the_latest_schema_and_wal(tmp_path: Path) -> None:
    j = make(tmp_path / "j.sqlite3")
    try:
        assert j.schema_version() == LATEST_VERSION
        mode = j._db.execute("PRAGMA journal_mode").fetchone()[0]
        sync = j._db.execute("PRAGMA synchronous").fetchone()[0]
        assert mode == "wal" and sync == 2  # FULL
    finally:
        j.close()


def test_a_file_from_newer_software_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={LATEST_VERSION + 1}")
    db.close()
    with pytest.raises(JournalMigrationError):
        make(path)


def test_a_corrupt_file_is_refused_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    j = make(path)
    for i in range(300):
        j.enqueue_event(EventKind.AUDIT, {"i": i, "pad": "x" * 200})
    j.close()
    raw = bytearray(path.read_bytes())
    for off in range(4096 + 100, min(len(raw), 4096 * 6), 7):
        raw[off] ^= 0x5A
    path.write_bytes(bytes(raw))
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with pytest.raises(JournalCorruptError):
        make(path)


def test_personal_payloads_are_encrypted_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    j = make(path)
    msg_id = j.enqueue_event(
        EventKind.CONSENT, {"id_number": "11010519491231002X"}, DataClass.PERSONAL
    )
    j.close()
    blob = sqlite3.connect(path).execute("SELECT payload FROM outbox").fetchone()[0]
    assert b"11010519491231002X" not in blob
    j = make(path)
    try:
        row = j.pending(Lane.BUSINESS)[0]
        assert row.msg_id == msg_id and b"11010519491231002X" in row.payload
    finally:
        j.close()
    # With the wrong key the row cannot be read: it goes dead with a reason, never silently.
    j = make(path, key=bytes(32))
    try:
        assert j.pending(Lane.BUSINESS) == []
        assert j.dead_rows()[0][0] == msg_id and "unreadable" in j.dead_rows()[0][1]
    finally:
        j.close()


def test_sealer_rejects_tampering() -> None:
    s = Sealer(KEY)
    blob = bytearray(s.seal(b"secret", "ctx"))
    assert s.open(bytes(blob), "ctx") == b"secret"
    with pytest.raises(JournalError):
        s.open(bytes(blob), "other-ctx")
    blob[-1] ^= 1
    with pytest.raises(JournalError):
        s.open(bytes(blob), "ctx")


def test_key_from_credentials_directory_and_demo_fallback(tmp_path: Path) -> None:
    (tmp_path / "journal-key").write_text(KEY.hex())
    assert (
        load_key("journal-key", demo=False, environ={"CREDENTIALS_DIRECTORY": str(tmp_path)}) == KEY
    )
    assert load_key("journal-key", demo=True, environ={}) == DEMO_KEY
    with pytest.raises(JournalKeyError):
        load_key("journal-key", demo=False, environ={})
    (tmp_path / "bad").write_text("short")
    with pytest.raises(JournalKeyError):
        load_key("bad", demo=False, environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})


def test_seq_is_monotonic_across_boots_and_crashes(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    j = make(path, boot="boot-1")
    first = [j.stamp()["seq"] for _ in range(5)]
    j.close()  # a crash looks the same: the reserved block is skipped
    j = make(path, boot="boot-2")
    try:
        second = j.stamp()
        assert first == sorted(first) and second["seq"] > first[-1]
        assert second["boot_id"] == "boot-2" and second["terminal_id"] == "SSK-T-0001"
    finally:
        j.close()


def test_business_write_and_outbox_row_share_one_transaction(tmp_path: Path) -> None:
    j = make(tmp_path / "j.sqlite3")
    try:
        j.saga_create("saga-0001", "activation", "approve", {})
        with pytest.raises(RuntimeError), j.transaction() as db:
            j.enqueue_event(EventKind.AUDIT, {}, db=db)
            j.saga_update("saga-0001", step="confirm", state="done", db=db)
            raise RuntimeError("crash between the two writes")
        assert j.stats().depth == 0
        saga = j.saga_get("saga-0001")
        assert saga is not None and saga.step == "approve"
        assert j.stamp()["seq"] >= 1  # seq allocation recovers after the rollback
    finally:
        j.close()


def test_retention_purges_each_data_class_on_its_own_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    j = make(tmp_path / "j.sqlite3", clock)
    try:
        personal = j.enqueue_event(EventKind.CONSENT, {}, DataClass.PERSONAL)
        audit = j.enqueue_event(EventKind.AUDIT, {}, DataClass.AUDIT)
        j.mark_done([personal, audit])
        clock.advance(31 * 86_400)  # past personal (30 d), far from audit (3650 d)
        assert j.purge() == 1
        assert j.row_state(personal) is None and j.row_state(audit) == ("done", None)
    finally:
        j.close()


def test_telemetry_backlog_is_bounded_oldest_dropped(tmp_path: Path) -> None:
    j = Journal(
        tmp_path / "j.sqlite3",
        config=JournalConfig(max_telemetry_backlog=3),
        sealer=Sealer(KEY),
        clock=FakeClock(),
        terminal_id="SSK-T-0001",
        boot_id="b",
    )
    try:
        ids = [j.enqueue_event(EventKind.AUDIT, {})]  # business rows are never dropped
        for _ in range(5):
            j.enqueue_message(
                lambda env: BusinessEvent(kind=EventKind.SESSION_STATS, **env),
                channel=Channel.TELEMETRY,
                lane=Lane.TELEMETRY,
            )
        assert j.stats().telemetry_depth == 3 and j.counter("telemetry_dropped") == 2
        assert j.stats().depth == len(ids)
    finally:
        j.close()


def test_an_oversized_message_is_refused_at_creation(tmp_path: Path) -> None:
    j = make(tmp_path / "j.sqlite3")
    try:
        with pytest.raises(ValueError):
            j.enqueue_event(EventKind.APPLICATION, {"blob": "x" * 300_000})
        assert j.stats().depth == 0
    finally:
        j.close()


@settings(max_examples=40, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["event", "done", "dead", "purge"]), st.integers(0, 30)),
        max_size=40,
    )
)
def test_outbox_bookkeeping_holds_under_any_sequence(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int]]
) -> None:
    clock = FakeClock()
    j = make(tmp_path_factory.mktemp("j") / "j.sqlite3", clock)
    try:
        ids: list[str] = []
        state: dict[str, str] = {}
        seqs: list[int] = []
        for op, n in ops:
            if op == "event":
                ids.append(j.enqueue_event(EventKind.AUDIT, {"n": n}))
                state[ids[-1]] = "pending"
                seqs.append(
                    decode(BusinessEvent, j.pending(Lane.BUSINESS, 0, 10_000)[-1].payload).seq
                )
            elif op == "done" and ids:
                target = ids[n % len(ids)]
                j.mark_done([target])
                if state.get(target) == "pending":
                    state[target] = "done"
            elif op == "dead" and ids:
                target = ids[n % len(ids)]
                j.mark_dead(target, "refused")
                if target in state:
                    state[target] = "dead"
            elif op == "purge":
                clock.advance(n * 86_400.0 * 200)
                j.purge()
                state = {k: v for k, v in state.items() if j.row_state(k) is not None}
        stats = j.stats()
        assert stats.depth == sum(1 for v in state.values() if v == "pending")
        assert {m.msg_id for m in j.pending(Lane.BUSINESS, 0, 10_000)} == {
            k for k, v in state.items() if v == "pending"
        }
        assert seqs == sorted(set(seqs))  # strictly increasing
    finally:
        j.close()
