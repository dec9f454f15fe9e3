"""The RPC handlers: one `handle_<method>` per contract method, validated with the contract's
schemas, answering an `RpcResponse` and never raising (every failure is a typed `RpcError`).

Runs on a worker's MQTT thread with that worker's own `Storage` and `Ledger`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from central.certificates import CertificateSigner
from central.config import resolve_path
from central.errors import CentralError, NotFoundError, StorageDataError, StorageError
from central.essc import EsscAuthority
from central.holder_handlers import HolderHandlers
from central.idcard_login import FaceMatcher, IdCardLogin
from central.idnumber import mask_id
from central.ledger import Ledger
from central.services import ServiceHandlers
from central.storage import Storage
from central.trust import Claims, ForbiddenError, SessionTrust
from kiosk.contract import (
    RPC_SCHEMAS,
    AccountKind,
    AccountsParams,
    AccountsResult,
    AccumulatedAccount,
    ActivationApproveParams,
    ActivationState,
    ActivationStatusParams,
    BenefitPayment,
    BenefitsParams,
    BenefitsResult,
    BillsParams,
    BillsResult,
    ContractError,
    ContributionRecord,
    ContributionsParams,
    ContributionsResult,
    EsscLoginParams,
    FingerprintParams,
    FingerprintResult,
    IdCardLoginParams,
    InsuranceKind,
    Message,
    PaymentState,
    PaymentStatusParams,
    PaymentSubmitParams,
    PersonParams,
    PersonSummary,
    PhotoParams,
    PhotoResult,
    RpcError,
    RpcMethod,
    RpcRequest,
    RpcResponse,
    SessionChallengeParams,
    SessionElevateParams,
    SessionOpenParams,
    UtilityBill,
    UtilityKind,
    decode,
)

__all__ = ["RpcService", "mask_account", "mask_name"]

logger = logging.getLogger("central.rpc")

# ISO/IEC 19794-2 finger position 2 (right index) - 1: what a "any finger" request gets.
_DEFAULT_FINGER = 1


def mask_name(name: str) -> str:
    """Family name shown, the rest masked (docs/architecture.md §9): 张** ."""
    return name[:1] + "*" * max(0, len(name) - 1)


def mask_account(number: str) -> str:
    """Bank number: first 6 and last 4 shown."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


class RpcService:
    """Dispatches validated RPC requests to `handle_<method>` (a table built once).

    `handle()` is the only entry point; it returns an `RpcResponse` for every input:
    ``invalid_params`` (permanent) for a schema error, ``not_found``, ``deadline_passed``,
    ``forbidden`` (envelope terminal id is not the topic's, or the session token does not
    cover the request: central/trust.py), ``card_lost``, ``declined``, ``internal``
    (transient: the database failed; the kiosk may retry the same request id / payment key).
    """

    def __init__(
        self,
        storage: Storage,
        ledger: Ledger,
        clock: Callable[[], float] = time.time,
        *,
        trust: SessionTrust | None = None,
        signer: CertificateSigner | None = None,
        essc: EsscAuthority | None = None,
    ) -> None:
        self._db = storage
        self._ledger = ledger
        self._clock = clock
        # Shared by the workers (stateless tokens); a lone RpcService gets its own.
        self.trust = trust or SessionTrust(clock=clock)
        key_file = self.trust.config.essc_key_file
        self.essc = essc or EsscAuthority.load(resolve_path(key_file) if key_file else None, clock)
        self._claims: Claims | None = None  # of the request being handled (one thread)
        self.idcard = IdCardLogin(self.trust, clock)
        # This worker's own face models (dlib is not thread-safe), loaded on the first login.
        self._faces = FaceMatcher(self.trust.config.idcard_face_threshold)
        services = ServiceHandlers(storage, signer or CertificateSigner.load(None), clock)
        self.services = services
        holder = HolderHandlers(storage, services, ledger)
        self._table: dict[RpcMethod, Callable[[str, RpcRequest, Any], BaseModel]] = {
            RpcMethod.PERSON_SUMMARY: self.handle_person_summary,
            RpcMethod.CONTRIBUTIONS: self.handle_contributions,
            RpcMethod.ACCOUNTS: self.handle_accounts,
            RpcMethod.BENEFITS: self.handle_benefits,
            RpcMethod.BILLS: self.handle_bills,
            RpcMethod.PAYMENT_SUBMIT: self.handle_payment_submit,
            RpcMethod.PAYMENT_STATUS: self.handle_payment_status,
            RpcMethod.PHOTO_REFERENCE: self.handle_photo_reference,
            RpcMethod.FINGERPRINT_REFERENCE: self.handle_fingerprint_reference,
            RpcMethod.ACTIVATION_APPROVE: self.handle_activation_approve,
            RpcMethod.ACTIVATION_STATUS: self.handle_activation_status,
            RpcMethod.SESSION_CHALLENGE: self.handle_session_challenge,
            RpcMethod.SESSION_OPEN: self.handle_session_open,
            RpcMethod.SESSION_ELEVATE: self.handle_session_elevate,
            RpcMethod.CONTRIBUTIONS_YEARLY: services.handle_yearly,
            RpcMethod.CERTIFICATE_ISSUE: services.handle_certificate_issue,
            RpcMethod.CERTIFICATE_VERIFY: services.handle_certificate_verify,
            RpcMethod.EMPLOYMENT_CERTIFICATE: services.handle_employment_certificate,
            RpcMethod.UNEMPLOYMENT_REGISTER: services.handle_unemployment_register,
            RpcMethod.TRAINING_CATALOGUE: services.handle_training_catalogue,
            RpcMethod.TRAINING_SIGNUP: services.handle_training_signup,
            RpcMethod.LOSS_REPORT: services.handle_loss_report,
            RpcMethod.LOSS_CANCEL: services.handle_loss_cancel,
            RpcMethod.PENSION_QUALIFY: services.handle_pension_qualify,
            RpcMethod.ESSC_LOGIN: self.handle_essc_login,
            RpcMethod.IDCARD_LOGIN: self.handle_idcard_login,
            RpcMethod.FINGERPRINT_ENROLL: holder.handle_fingerprint_enroll,
            RpcMethod.CONTRIBUTION_QUOTE: holder.handle_contribution_quote,
        }

    def _error(
        self, req_id: str, code: str, message: str, *, permanent: bool = True
    ) -> RpcResponse:
        return RpcResponse(
            request_id=req_id,
            ok=False,
            server_wall=self._clock(),
            error=RpcError(code=code, message=message[:500], permanent=permanent),
        )

    def handle(self, terminal_id: str, request: RpcRequest) -> RpcResponse:
        """Answer one request that arrived on `terminal_id`'s request topic."""
        rid = request.msg_id
        if request.terminal_id != terminal_id:
            return self._error(rid, "forbidden", "terminal_id differs from the topic's")
        params_model, _ = RPC_SCHEMAS[request.method]
        try:
            params = decode(params_model, request.params)
        except ContractError as e:
            return self._error(rid, "invalid_params", str(e))
        try:
            if isinstance(params, PaymentSubmitParams):
                # A redelivery of a payment already applied answers what was applied, whatever
                # its token has become since (expired): "forbidden" would read "not charged".
                stored = self._ledger.stored_payment(terminal_id, params.payment_key)
                if stored is not None:
                    return self._ok(rid, stored)
            self._claims = None
            try:
                self._claims = self.trust.authorize(self._db, terminal_id, request, params)
            except CentralError as e:
                if isinstance(params, PaymentSubmitParams):
                    # The key is burnt (declined), so no later copy of it can ever charge.
                    self._ledger.decline_payment(terminal_id, rid, params, e.code)
                logger.info("rpc %s from %s refused: %s", request.method, terminal_id, e.code)
                return self._error(rid, e.code, e.message)
            if self._clock() > request.deadline:
                if isinstance(params, PaymentSubmitParams):
                    # Recorded, so the key can never be applied later (status says DECLINED).
                    # A late REDELIVERY of a payment applied in time answers what was applied:
                    # "deadline passed" would make the kiosk believe it was not charged.
                    done = self._ledger.submit_payment(
                        terminal_id, rid, params, deadline=request.deadline
                    )
                    if done.state is PaymentState.ACCEPTED:
                        return self._ok(rid, done)
                return self._error(rid, "deadline_passed", "received after the request deadline")
            result = self._table[request.method](terminal_id, request, params)
        except NotFoundError as e:
            return self._error(rid, "not_found", e.message)
        except StorageDataError as e:  # the same request fails every time: not transient
            logger.error("rpc %s from %s: refused by storage: %s", request.method, terminal_id, e)
            return self._error(rid, "invalid_params", "a value cannot be stored")
        except StorageError as e:
            logger.error("rpc %s from %s: storage failed: %s", request.method, terminal_id, e)
            return self._error(rid, "internal", "storage unavailable, retry", permanent=False)
        except CentralError as e:
            return self._error(rid, e.code, e.message)
        return self._ok(rid, result)

    def _ok(self, rid: str, result: BaseModel) -> RpcResponse:
        return RpcResponse(
            request_id=rid,
            ok=True,
            result=result.model_dump(mode="json"),
            server_wall=self._clock(),
        )

    # ------------------------------------------------------------------ queries

    def _person(self, id_number: str) -> tuple[Any, ...]:
        row = self._db.one(
            "SELECT id_number, name, sex, birth_date, region, card_number, insured_since, status,"
            " employer, bank_account FROM persons WHERE id_number = ?",
            (id_number.upper(),),
        )
        if row is None:
            raise NotFoundError(f"no insured person {mask_id(id_number)}")
        return row

    def handle_person_summary(self, _t: str, _r: RpcRequest, p: PersonParams) -> Message:
        """Identity, status, insurances, card activation and wallet balance of one person."""
        idn, name, sex, birth, region, card, since, status, _emp, _bank = self._person(p.id_number)
        kinds = {
            r[0]
            for r in self._db.query(
                "SELECT DISTINCT insurance FROM contributions WHERE id_number = ?", (idn,)
            )
        }
        if status == "retired":
            kinds |= {InsuranceKind.PENSION.value, InsuranceKind.MEDICAL.value}
        activated = self._db.one(
            "SELECT 1 FROM activations WHERE id_number = ? AND state = ?",
            (idn, ActivationState.CONFIRMED.value),
        )
        wallet = self._db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (idn,))
        return PersonSummary(
            id_number=idn,
            name=name,
            gender=sex if sex in ("M", "F") else "",
            birth_date=birth,
            region=region,
            insured_since=since,
            status=status,
            insurances=[k for k in InsuranceKind if k.value in kinds],
            card_number=card,
            card_activated=activated is not None,
            wallet_balance_cents=int(wallet[0]) if wallet else 0,
        )

    def handle_contributions(self, _t: str, _r: RpcRequest, p: ContributionsParams) -> Message:
        """Monthly contributions of one insurance, periods inclusive, oldest first."""
        person = self._person(p.id_number)
        where = (
            " FROM contributions WHERE id_number = ? AND insurance = ? AND period >= ?"
            " AND period <= ?"
        )
        args: tuple[Any, ...] = (person[0], p.insurance.value, p.from_period, p.to_period)
        count = self._db.one("SELECT COUNT(*)" + where, args)
        total = int(count[0]) if count else 0
        page_sql = ""
        if p.page_size:
            page_sql = " LIMIT ? OFFSET ?"
            args = (*args, p.page_size, (p.page - 1) * p.page_size)
        rows = self._db.query(
            "SELECT period, base_cents, employer_cents, personal_cents, paid"
            + where
            + " ORDER BY period"
            + page_sql,
            args,
        )
        return ContributionsResult(
            total=total,
            page=p.page,
            pages=-(-total // p.page_size) if p.page_size else 1,
            records=[
                ContributionRecord(
                    period=r[0],
                    insurance=p.insurance,
                    base_cents=int(r[1]),
                    employer_cents=int(r[2]),
                    personal_cents=int(r[3]),
                    paid=bool(r[4]),
                    employer=person[8],
                )
                for r in rows
            ],
        )

    def handle_accounts(self, _t: str, _r: RpcRequest, p: AccountsParams) -> Message:
        """The accumulated pension and medical accounts."""
        person = self._person(p.id_number)
        rows = self._db.query(
            "SELECT kind, balance_cents, contributed_cents, interest_cents, months, as_of"
            " FROM accounts WHERE id_number = ? ORDER BY kind DESC",
            (person[0],),
        )
        return AccountsResult(
            accounts=[
                AccumulatedAccount(
                    kind=AccountKind(r[0]),
                    balance_cents=int(r[1]),
                    contributed_cents=int(r[2]),
                    interest_cents=int(r[3]),
                    months=int(r[4]),
                    as_of=r[5],
                )
                for r in rows
            ]
        )

    def handle_benefits(self, _t: str, _r: RpcRequest, p: BenefitsParams) -> Message:
        """Benefit payments in the periods, oldest first; the bank account masked."""
        person = self._person(p.id_number)
        rows = self._db.query(
            "SELECT period, kind, amount_cents, paid_on FROM benefits"
            " WHERE id_number = ? AND period >= ? AND period <= ? ORDER BY period, kind",
            (person[0], p.from_period, p.to_period),
        )
        bank = mask_account(person[9])
        return BenefitsResult(
            payments=[
                BenefitPayment(
                    period=r[0], kind=r[1], amount_cents=int(r[2]), paid_on=r[3], bank_account=bank
                )
                for r in rows
            ]
        )

    def handle_bills(self, _t: str, _r: RpcRequest, p: BillsParams) -> Message:
        """Bills of one utility account number (unpaid only by default), oldest first."""
        rows = self._db.query(
            "SELECT b.bill_id, b.period, b.amount_cents, b.due_date, b.status, p.name"
            " FROM bills b JOIN persons p ON p.id_number = b.holder_id"
            " WHERE b.account_number = ? AND b.utility = ? ORDER BY b.period",
            (p.account_number, p.utility.value),
        )
        if not rows:
            raise NotFoundError(f"no {p.utility.value} account {p.account_number[:4]}…")
        return BillsResult(
            bills=[
                UtilityBill(
                    bill_id=r[0],
                    utility=UtilityKind(p.utility),
                    account_number=p.account_number,
                    holder=mask_name(r[5]),
                    period=r[1],
                    amount_cents=int(r[2]),
                    due_date=r[3],
                    paid=r[4] == "paid",
                )
                for r in rows
                if not (p.unpaid_only and r[4] == "paid")
            ]
        )

    def handle_photo_reference(self, _t: str, _r: RpcRequest, p: PhotoParams) -> Message:
        """The holder's reference photo (JPEG), for the face check after consent."""
        row = self._db.one("SELECT photo FROM persons WHERE id_number = ?", (p.id_number.upper(),))
        if row is None or row[0] is None:
            raise NotFoundError(f"no reference photo for {mask_id(p.id_number)}")
        data = bytes(row[0])
        return PhotoResult(
            image_b64=base64.b64encode(data).decode("ascii"),
            format="png" if data.startswith(b"\x89PNG") else "jpeg",
            sha256=hashlib.sha256(data).hexdigest(),
        )

    def handle_fingerprint_reference(
        self, _t: str, _r: RpcRequest, p: FingerprintParams
    ) -> Message:
        """The holder's enrolled fingerprint template (module character file)."""
        row = self._db.one(
            "SELECT finger_template FROM persons WHERE id_number = ?", (p.id_number.upper(),)
        )
        if row is None or row[0] is None:
            raise NotFoundError(f"no fingerprint template for {mask_id(p.id_number)}")
        data = bytes(row[0])
        return FingerprintResult(
            template_b64=base64.b64encode(data).decode("ascii"),
            finger=p.finger if p.finger >= 0 else _DEFAULT_FINGER,
            sha256=hashlib.sha256(data).hexdigest(),
        )

    # ------------------------------------------------------------------ session trust

    def handle_session_challenge(
        self, terminal_id: str, _r: RpcRequest, p: SessionChallengeParams
    ) -> Message:
        """A fresh challenge for the card in this terminal's reader."""
        return self.trust.challenge(self._db, terminal_id, p)

    def handle_session_open(
        self, terminal_id: str, _r: RpcRequest, p: SessionOpenParams
    ) -> Message:
        """Check the card's answer; the first token of the session."""
        return self.trust.open(self._db, terminal_id, p)

    def handle_essc_login(self, terminal_id: str, _r: RpcRequest, p: EsscLoginParams) -> Message:
        """Redeem an e-SSC code shown at this terminal; a session that stands in for card + PIN."""
        id_number = self.essc.redeem(self._db, terminal_id, p.token)
        return self.trust.essc_session(terminal_id, id_number)

    def handle_idcard_login(
        self, terminal_id: str, _r: RpcRequest, p: IdCardLoginParams
    ) -> Message:
        """The ID card and the central's own face match, where policy allows: a records-lookup
        session (central/idcard_login.py)."""
        return self.idcard.login(self._db, self._faces, terminal_id, p)

    def handle_session_elevate(
        self, terminal_id: str, _r: RpcRequest, p: SessionElevateParams
    ) -> Message:
        """Add on-site proofs to the session of the request's token."""
        if self._claims is None:  # authorize() returns the claims for this method
            raise ForbiddenError("a session token is needed")
        return self.trust.elevate(self._db, terminal_id, self._claims, p)

    # ------------------------------------------------------------------ ledger

    def handle_payment_submit(
        self, terminal_id: str, r: RpcRequest, p: PaymentSubmitParams
    ) -> Message:
        """Charge the wallet once per payment key, before the request's deadline."""
        return self._ledger.submit_payment(terminal_id, r.msg_id, p, deadline=r.deadline)

    def handle_payment_status(
        self, terminal_id: str, _r: RpcRequest, p: PaymentStatusParams
    ) -> Message:
        """What happened to a payment key (an unknown key is voided: see the ledger)."""
        return self._ledger.payment_status(terminal_id, p.payment_key)

    def handle_activation_approve(
        self, terminal_id: str, _r: RpcRequest, p: ActivationApproveParams
    ) -> Message:
        """Saga step 1: approve a card activation (idempotent on the activation key)."""
        return self._ledger.approve_activation(terminal_id, p)

    def handle_activation_status(
        self, _t: str, _r: RpcRequest, p: ActivationStatusParams
    ) -> Message:
        """Saga recovery probe: the state of an activation key."""
        return self._ledger.activation_status(p.activation_key)
