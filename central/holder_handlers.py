"""Two handlers that decide what a kiosk may not: the holder's new fingerprint reference
(``fingerprint.enroll``) and the amount of a flexible-employment contribution
(``contribution.quote``). docs/services.md and docs/central-trust.md say who may call them.

Enrolment replaces the holder's reference template, once per `enrol_key` (the affairs table's
exactly-once, kind ``fingerprint_enroll``, bound to the terminal and the person that used the
key first). Its token must carry card, PIN, face and fingerprint (central/trust.py): the card
answered the central's challenge, and the finger on the scanner matched the reference it
replaces, so only the present, proven holder re-enrols. The affairs row keeps the digest only;
the template itself lives in `persons.finger_template` and nowhere else.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import logging
from typing import Any

from central.contributions import NoContributionDueError, contribution_due
from central.errors import NotFoundError, RejectedError
from central.idnumber import mask_id
from central.ledger import Ledger
from central.services import ACCEPTED, ServiceHandlers
from central.storage import Storage
from kiosk.contract import (
    FINGERPRINT_TEMPLATE_MAX_BYTES,
    ContributionQuote,
    ContributionQuoteParams,
    FingerprintEnrollParams,
    FingerprintEnrollResult,
    Message,
    RpcRequest,
)

__all__ = ["MIN_TEMPLATE_BYTES", "HolderHandlers"]

logger = logging.getLogger("central.holder")

MIN_TEMPLATE_BYTES = 16
"""Shorter than any module's character file: refused as not a template."""


class HolderHandlers:
    """Over one worker's `Storage`, its `ServiceHandlers` (exactly once) and `Ledger` (rates)."""

    def __init__(self, storage: Storage, services: ServiceHandlers, ledger: Ledger) -> None:
        self._db = storage
        self._services = services
        self._ledger = ledger

    def _holder(self, id_number: str) -> str:
        row = self._db.one(
            "SELECT id_number FROM persons WHERE id_number = ?", (id_number.upper(),)
        )
        if row is None:
            raise NotFoundError(f"no insured person {mask_id(id_number)}")
        return str(row[0])

    def handle_fingerprint_enroll(
        self, t: str, _r: RpcRequest, p: FingerprintEnrollParams
    ) -> Message:
        """Store the template enrolled on site as the holder's reference (once per key)."""
        holder = self._holder(p.id_number)
        try:
            template = binascii.a2b_base64(p.template_b64, strict_mode=True)
        except (binascii.Error, ValueError):
            raise RejectedError("the template is not base64", code="invalid_params") from None
        if not MIN_TEMPLATE_BYTES <= len(template) <= FINGERPRINT_TEMPLATE_MAX_BYTES:
            raise RejectedError(
                f"a template has {MIN_TEMPLATE_BYTES}-{FINGERPRINT_TEMPLATE_MAX_BYTES} bytes",
                code="invalid_params",
            )
        digest = hashlib.sha256(template).hexdigest()
        kind = "fingerprint_enroll"

        def effect(db: Storage) -> tuple[str, str, dict[str, Any]]:
            db.execute(
                "UPDATE persons SET finger_template = ? WHERE id_number = ?", (template, holder)
            )
            return ACCEPTED, "", {"sha256": digest, "finger": p.finger}

        row, repeated = self._services.apply_once(p.enrol_key, kind, t, holder, effect)
        stored = str(json.loads(str(row[3]) or "{}").get("sha256", ""))
        if row[0] != ACCEPTED or len(stored) != 64:
            raise RejectedError("the enrolment was not recorded", code="declined")
        logger.info("fingerprint of %s enrolled at %s (repeated=%s)", mask_id(holder), t, repeated)
        return FingerprintEnrollResult(
            enrol_key=p.enrol_key,
            reference="sha256:" + stored[:32],
            sha256=stored,
            repeated=repeated,
        )

    def handle_contribution_quote(
        self, _t: str, _r: RpcRequest, p: ContributionQuoteParams
    ) -> Message:
        """What the flexible-employment contribution for `period` costs (the ledger's rule);
        a month already paid is refused ``already_paid``, so the kiosk offers no payment."""
        holder = self._holder(p.id_number)
        rate = self._ledger.config.flexible_pension_rate_permille
        try:
            due = contribution_due(self._db, holder, p.period, rate)
        except NoContributionDueError as e:
            raise RejectedError(
                f"no contribution can be quoted: {e.reason}", code=e.reason
            ) from None
        return ContributionQuote(
            period=due.period,
            base_cents=due.base_cents,
            rate_permille=due.rate_permille,
            amount_cents=due.amount_cents,
        )
