"""What a flexible-employment pension contribution costs, computed by the central only.

The quote (``contribution.quote``) and the ledger's check of a ``contribution`` payment call the
same function, so the amount a kiosk shows is the one the ledger accepts, and a kiosk that sends
another amount (tampered, or quoting from stale data) is declined ``amount_mismatch`` with
nothing charged. The base is the person's latest pension contribution base up to the period
(flexible employment keeps the base last declared); the rate is `[ledger]
flexible_pension_rate_permille` (State Council Guofa [2005] 38: 20 %).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from central.storage import Storage

__all__ = ["ContributionDue", "NoContributionDueError", "contribution_due"]

_PERIOD = re.compile(r"^[0-9]{4}(0[1-9]|1[0-2])$")


class NoContributionDueError(Exception):
    """Nothing can be quoted: `reason` is ``invalid_period`` or ``no_contribution_base``."""

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
    row = db.one(
        "SELECT base_cents FROM contributions WHERE id_number = ? AND insurance = 'pension'"
        " AND period <= ? ORDER BY period DESC LIMIT 1",
        (id_number.upper(), period),
    )
    base = int(row[0]) if row is not None else 0
    # Integer fen, rounded half up (no float on money).
    amount = (base * rate_permille + 500) // 1000
    if amount <= 0:
        raise NoContributionDueError("no_contribution_base")
    return ContributionDue(period, base, rate_permille, amount)
