"""Ledger invariants under any interleaving of submits, retries, late arrivals and status
queries (hypothesis, SQLite in memory): money moves once per key, and never after a void."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from central.config import LedgerConfig, SeedConfig
from central.contributions import contribution_due
from central.ledger import Ledger
from central.seed import seed_database
from central.storage import Storage
from kiosk.contract import PaymentPurpose, PaymentState, PaymentSubmitParams
from tests.fixtures.central import small_seed_config

NOW = 1_790_000_000.0
KEYS = [f"key-{i:04d}-xxxx" for i in range(4)]


@functools.cache
def _seed() -> SeedConfig:
    """Profile files written once per session (hypothesis reruns the test body many times)."""
    return small_seed_config(Path(tempfile.mkdtemp(prefix="ledger-prop-")), persons=2)


ops = st.lists(
    st.tuples(
        st.sampled_from(["submit", "status"]),
        st.integers(0, len(KEYS) - 1),
        st.integers(1, 400_000),  # some exceed what is left in the wallet
        st.booleans(),  # late: after the request's deadline
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(ops)
def test_money_moves_once_per_key_and_never_after_a_void(
    steps: list[tuple[str, int, int, bool]],
) -> None:
    seed = _seed()
    with Storage("sqlite:///:memory:") as db:
        seed_database(db, seed)
        ledger = Ledger(db, LedgerConfig(), lambda: NOW)
        # A payer with a pension base: a contribution carries the central's amount to be
        # charged (central/contributions.py); odd draws send another amount (declined).
        payer_row = db.one(
            "SELECT id_number FROM contributions WHERE insurance = 'pension' ORDER BY id_number"
        )
        assert payer_row is not None
        payer = str(payer_row[0])
        due = contribution_due(db, payer, "202611", LedgerConfig().flexible_pension_rate_permille)
        db.execute(
            "UPDATE wallets SET balance_cents = ? WHERE id_number = ?",
            (due.amount_cents * 2, payer),
        )
        start = due.amount_cents * 2
        first_seen: dict[str, str] = {}  # key -> "submit" or "status"
        first_answer: dict[str, tuple[PaymentState, int]] = {}
        for op, k, amount, late in steps:
            key = KEYS[k]
            if op == "status":
                state = ledger.payment_status("SSK-T-0001", key).state
                first_seen.setdefault(key, "status")
                if first_seen[key] == "status":
                    assert state is not PaymentState.ACCEPTED
                continue
            params = PaymentSubmitParams(
                payment_key=key,
                id_number=payer,
                card_number="",
                purpose=PaymentPurpose.CONTRIBUTION,
                reference="202611",
                amount_cents=due.amount_cents if amount % 2 == 0 else amount,
            )
            is_new = key not in first_answer
            result = ledger.submit_payment(
                "SSK-T-0001", "r", params, deadline=NOW - 1 if late else NOW + 30
            )
            first_seen.setdefault(key, "submit")
            answer = (result.state, result.amount_cents)
            # a retry gets exactly the first answer, whatever amount it carries now
            assert first_answer.setdefault(key, answer) == answer
            if first_seen[key] == "status" or (late and is_new):
                assert result.state is not PaymentState.ACCEPTED
        accepted = (
            db.query("SELECT SUM(amount_cents) FROM payments WHERE state = 'accepted'")[0][0] or 0
        )
        row = db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (payer,))
        assert row is not None and int(row[0]) == start - int(accepted) >= 0
        assert db.one("SELECT COUNT(*) FROM payments")[0] <= len(KEYS)  # type: ignore[index]
        # one month, many keys: charged at most once (the others: already_paid)
        charged = db.one("SELECT COUNT(*) FROM payments WHERE state = 'accepted'")
        assert charged is not None and int(charged[0]) <= 1
