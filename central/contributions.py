"""What a flexible-employment pension contribution costs, computed by the central only.

The quote (``contribution.quote``) and the ledger's check of a ``contribution`` payment call the
same function, so the amount a kiosk shows is the one the ledger accepts, and a kiosk that sends
another amount (tampered, or quoting from stale data) is declined ``amount_mismatch`` with
nothing charged. The base is the person's latest pension contribution base up to the period
(flexible employment keeps the base last declared); the rate is `[ledger]
flexible_pension_rate_permille` (State Council Guofa [2005] 38: 20 %).

A month is paid once: a period the person's record shows paid, or one a flexible-employment
payment already paid (`contribution_payments`), is ``already_paid``. The quote refuses it, so
the kiosk never offers the payment; the ledger re-checks it in the paying transaction with the
table's primary key (`claim_period`), so two payments racing for the same month (two keys, two
workers) cannot both charge. The same payment key replayed still answers its first outcome
(the ledger looks the key up before anything else).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from central.storage import Storage

__all__ = [
    "FLEXIBLE_INSURANCE",
    "ContributionDue",
    "NoContributionDueError",
    "claim_period",
    "contribution_due",
]

_PERIOD = re.compile(r"^[0-9]{4}(0[1-9]|1[0-2])$")
FLEXIBLE_INSURANCE = "pension"
"""The insurance a flexible-employment contribution pays (the only one the ledger prices)."""


class NoContributionDueError(Exception):
    """Nothing can be quoted: `reason` is ``invalid_period``, ``already_paid`` or
    ``no_contribution_base``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ContributionDue:
    period: str
    base_cents: int
    rate_permille: int
    amount_cents: int


def contribution_due(
    db: Storage, id_number: str, period: str, rate_permille: int
) -> ContributionDue:
    """The amount due for `period` (YYYYMM); `NoContributionDueError` when there is none."""
    if not _PERIOD.match(period):
        raise NoContributionDueError("invalid_period")
    holder = id_number.upper()
    paid = db.one(
        "SELECT 1 FROM contributions WHERE id_number = ? AND insurance = ? AND period = ?"
        " AND paid = 1 UNION ALL SELECT 1 FROM contribution_payments WHERE id_number = ?"
        " AND insurance = ? AND period = ?",
        (holder, FLEXIBLE_INSURANCE, period, holder, FLEXIBLE_INSURANCE, period),
    )
    if paid is not None:
        raise NoContributionDueError("already_paid")
    row = db.one(
        "SELECT base_cents FROM contributions WHERE id_number = ? AND insurance = ?"
        " AND period <= ? ORDER BY period DESC LIMIT 1",
        (holder, FLEXIBLE_INSURANCE, period),
    )
    base = int(row[0]) if row is not None else 0
    # Integer fen, rounded half up (no float on money).
    amount = (base * rate_permille + 500) // 1000
    if amount <= 0:
        raise NoContributionDueError("no_contribution_base")
    return ContributionDue(period, base, rate_permille, amount)


def claim_period(
    db: Storage, id_number: str, due: ContributionDue, payment_key: str, now: float
) -> bool:
    """Record `due.period` as paid by `payment_key`, in the caller's paying transaction; False
    when another payment holds it already. ``ON CONFLICT DO NOTHING`` on the primary key: on
    PostgreSQL a concurrent claim of the same month waits for the first transaction and then
    finds the row (or, if that one rolled back, takes the month); on SQLite `BEGIN IMMEDIATE`
    serialises the two.

    The month also becomes a paid row of the person's contribution record (the person pays it
    all, no employer share), so the inquiry, the yearly chart and the certificate show it like
    any paid month; a declined payment rolls both back."""
    holder = id_number.upper()
    claimed = db.query(
        "INSERT INTO contribution_payments (id_number, insurance, period, payment_key,"
        " amount_cents, paid_at) VALUES (?,?,?,?,?,?)"
        " ON CONFLICT (id_number, insurance, period) DO NOTHING RETURNING period",
        (holder, FLEXIBLE_INSURANCE, due.period, payment_key, due.amount_cents, now),
    )
    if not claimed:
        return False
    db.execute(
        "INSERT INTO contributions (id_number, insurance, period, base_cents, employer_cents,"
        " personal_cents, paid) VALUES (?,?,?,?,0,?,1)"
        " ON CONFLICT (id_number, insurance, period) DO UPDATE SET base_cents ="
        " excluded.base_cents, employer_cents = 0, personal_cents = excluded.personal_cents,"
        " paid = 1",
        (holder, FLEXIBLE_INSURANCE, due.period, due.base_cents, due.amount_cents),
    )
    return True
