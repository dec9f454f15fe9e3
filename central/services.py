"""The service RPCs beyond queries and payments: yearly series, insured certificates, affairs
(employment certificate, unemployment registration, training), the card's temporary loss
report, and the pension qualification. docs/services.md says what each needs and returns.

Every business action is applied once per `request_key`, the ledger's way: the key row is
claimed first (``INSERT ... ON CONFLICT DO NOTHING RETURNING``) in the same transaction as the
effect, so a redelivery, even on another worker, answers what was stored (``repeated``). A key
is bound to the terminal and the person that used it first; anyone else gets ``forbidden``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

from central.certificates import CertificateSigner, issue_certificate, verify_code
from central.errors import NotFoundError, RejectedError
from central.idnumber import mask_id
from central.storage import Row, Storage
from kiosk.contract import (
    AffairResult,
    AffairState,
    CertificateParams,
    CertificateVerifyParams,
    EmploymentCertificateParams,
    LossParams,
    LossResult,
    Message,
    PensionQualification,
    PensionQualifyParams,
    RpcRequest,
    TrainingCatalogue,
    TrainingCatalogueParams,
    TrainingCourse,
    TrainingSignupParams,
    UnemploymentRegisterParams,
    YearlyParams,
    YearlySeries,
    YearPoint,
)

__all__ = ["ACCEPTED", "DECLINED", "ServiceHandlers"]

logger = logging.getLogger("central.services")

ACCEPTED = AffairState.ACCEPTED.value
DECLINED = AffairState.DECLINED.value
Effect = Callable[[Storage], tuple[str, str, dict[str, Any]]]
"""In the claiming transaction: returns (state, reason, data); writes only when accepting."""


_QUEUED = {
    # `type` of a queued application/registration event → the affair it is (kiosk/session)
    "employment_certificate": "employment_certificate",
    "unemployment_registration": "unemployment_register",
    "training": "training_signup",
}


def _reference(kind: str, key: str) -> str:
    prefix = {"loss_report": "LR", "loss_cancel": "LC", "pension_qualify": "PQ"}.get(kind, "AF")
    return prefix + hashlib.sha256(f"{kind}:{key}".encode()).hexdigest()[:12].upper()


class ServiceHandlers:
    """Handlers over one worker's `Storage` (one thread)."""

    def __init__(
        self,
        storage: Storage,
        signer: CertificateSigner,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = storage
        self._signer = signer
        self._clock = clock

    # ------------------------------------------------------------------ exactly once

    def _apply_once(
        self, key: str, kind: str, terminal_id: str, id_number: str, effect: Effect
    ) -> tuple[Row, bool]:
        """(stored row, repeated). Row: state, reference_no, reason, data, created_at."""
        stored = self._stored(key, kind, terminal_id, id_number)
        if stored is not None:
            return stored, True
        now = self._clock()
        with self._db.transaction() as db:
            claimed = db.query(
                "INSERT INTO affairs (request_key, kind, terminal_id, id_number, state,"
                " reference_no, reason, data, created_at) VALUES (?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (request_key) DO NOTHING RETURNING request_key",
                (
                    key,
                    kind,
                    terminal_id,
                    id_number,
                    "pending",
                    _reference(kind, key),
                    "",
                    "{}",
                    now,
                ),
            )
            if claimed:
                state, reason, data = effect(db)
                db.execute(
                    "UPDATE affairs SET state = ?, reason = ?, data = ? WHERE request_key = ?",
                    (state, reason, json.dumps(data, sort_keys=True), key),
                )
        stored = self._stored(key, kind, terminal_id, id_number)
        assert stored is not None  # claimed by us or by a concurrent twin
        logger.info("%s %s for %s at %s: %s", kind, key, mask_id(id_number), terminal_id, stored[0])
        return stored, not claimed

    def apply_once(
        self, key: str, kind: str, terminal_id: str, id_number: str, effect: Effect
    ) -> tuple[Row, bool]:
        """`_apply_once` for the sibling handler modules (central/holder_handlers.py)."""
        return self._apply_once(key, kind, terminal_id, id_number, effect)

    def _stored(self, key: str, kind: str, terminal_id: str, id_number: str) -> Row | None:
        row = self._db.one(
            "SELECT state, reference_no, reason, data, created_at, kind, terminal_id, id_number"
            " FROM affairs WHERE request_key = ?",
            (key,),
        )
        if row is None:
            return None
        if (row[5], row[6], row[7]) != (kind, terminal_id, id_number):
            # Someone else's key: neither its outcome nor its existence is told.
            raise RejectedError("the request key belongs to another request", code="forbidden")
        return row[:5]

    def _affair(self, kind: str, key: str, row: Row, repeated: bool) -> AffairResult:
        return AffairResult(
            request_key=key,
            kind=kind,
            state=AffairState(row[0]),
            reference_no=row[1],
            reason=row[2],
            repeated=repeated,
        )

    def _person(self, id_number: str) -> Row:
        row = self._db.one(
            "SELECT id_number, name, status, birth_date FROM persons WHERE id_number = ?",
            (id_number.upper(),),
        )
        if row is None:
            raise NotFoundError(f"no insured person {mask_id(id_number)}")
        return row

    # ------------------------------------------------------------------ queued applications

    def apply_outbox_event(
        self, terminal_id: str, kind: str, msg_id: str, data: dict[str, Any]
    ) -> str | None:
        """Apply an application or registration a kiosk queued in its outbox (offline allowed:
        docs/services.md), once per event `msg_id`, BEFORE the event's receipt is recorded (a
        crash in between re-applies nothing: the key is stored). Returns the affair's state,
        or None when the event is not one of these (nothing applied). Unusable data (unknown
        person, a lost card, missing fields) is recorded as a declined affair, never raised."""
        what = str(data.get("type", ""))
        if kind not in ("application", "registration") or what not in _QUEUED:
            return None
        affair = _QUEUED[what]
        id_number = str(data.get("id_number", "")).upper()[:18]
        person = self._db.one(
            "SELECT id_number, status FROM persons WHERE id_number = ?", (id_number,)
        )
        card_number = str(data.get("card_number", ""))
        card = self._db.one(
            "SELECT state FROM cards WHERE card_number = ? AND id_number = ?",
            (card_number, id_number),
        )
        course_id = str(data.get("course_id", ""))[:32]

        def effect(db: Storage) -> tuple[str, str, dict[str, Any]]:
            if person is None or card is None:
                return DECLINED, "unknown_person_or_card", {}
            if card[0] != "active":
                return DECLINED, "card_lost", {}
            if affair == "unemployment_register":
                if person[1] == "retired":
                    return DECLINED, "retired", {}
                fresh = db.query(
                    "INSERT INTO unemployment_registrations (id_number, request_key,"
                    " registered_at) VALUES (?,?,?) ON CONFLICT (id_number) DO NOTHING"
                    " RETURNING id_number",
                    (id_number, msg_id, self._clock()),
                )
                return (ACCEPTED, "", {}) if fresh else (DECLINED, "already_registered", {})
            if affair == "training_signup":
                return self._take_seat(db, course_id, id_number, msg_id)
            return ACCEPTED, "", {"queued": True}

        try:
            row, _ = self._apply_once(msg_id, affair, terminal_id, id_number or "?", effect)
        except RejectedError as e:  # a msg_id colliding with another request's key
            logger.warning("queued %s %s from %s not applied: %s", what, msg_id, terminal_id, e)
            return DECLINED
        return str(row[0])

    def _take_seat(
        self, db: Storage, course_id: str, id_number: str, key: str
    ) -> tuple[str, str, dict[str, Any]]:
        """One seat of a course in the claiming transaction (RPC and queued sign-ups alike)."""
        if db.one("SELECT 1 FROM courses WHERE course_id = ?", (course_id,)) is None:
            return DECLINED, "unknown_course", {}
        fresh = db.query(
            "INSERT INTO course_signups (course_id, id_number, request_key, signed_at)"
            " VALUES (?,?,?,?) ON CONFLICT (course_id, id_number) DO NOTHING"
            " RETURNING course_id",
            (course_id, id_number, key, self._clock()),
        )
        if not fresh:
            return DECLINED, "already_signed_up", {}
        seat = db.execute(
            "UPDATE courses SET seats_taken = seats_taken + 1"
            " WHERE course_id = ? AND seats_taken < seats",
            (course_id,),
        )
        if seat != 1:
            db.execute(
                "DELETE FROM course_signups WHERE course_id = ? AND id_number = ?",
                (course_id, id_number),
            )
            return DECLINED, "course_full", {}
        return ACCEPTED, "", {"course_id": course_id}

    # ------------------------------------------------------------------ inquiry

    def handle_yearly(self, _t: str, _r: RpcRequest, p: YearlyParams) -> Message:
        """One point per year of the range: months paid/unpaid, average base, amounts."""
        person = self._person(p.id_number)
        if p.to_year < p.from_year or p.to_year - p.from_year > 80:
            raise RejectedError("a year range of at most 80 years", code="invalid_params")
        rows = self._db.query(
            "SELECT substr(period, 1, 4), paid, base_cents, employer_cents, personal_cents"
            " FROM contributions WHERE id_number = ? AND insurance = ? AND period >= ?"
            " AND period <= ?",
            (person[0], p.insurance.value, f"{p.from_year}01", f"{p.to_year}12"),
        )
        per_year: dict[int, list[int]] = {
            y: [0, 0, 0, 0, 0] for y in range(p.from_year, p.to_year + 1)
        }
        for year, paid, base, employer, personal in rows:
            acc = per_year[int(year)]
            if paid:
                acc[0] += 1
                acc[2] += int(base)
                acc[3] += int(employer)
                acc[4] += int(personal)
            else:
                acc[1] += 1
        return YearlySeries(
            insurance=p.insurance,
            points=[
                YearPoint(
                    year=y,
                    months_paid=a[0],
                    months_unpaid=a[1],
                    average_base_cents=a[2] // a[0] if a[0] else 0,
                    employer_cents=a[3],
                    personal_cents=a[4],
                )
                for y, a in sorted(per_year.items())
            ],
        )

    # ------------------------------------------------------------------ certificates

    def handle_certificate_issue(self, t: str, _r: RpcRequest, p: CertificateParams) -> Message:
        """The signed insured certificate of the holder (the same one again for the same key)."""
        person = self._person(p.id_number)
        cert, _repeated = issue_certificate(
            self._db,
            self._signer,
            request_key=p.request_key,
            terminal_id=t,
            id_number=person[0],
            name=person[1],
            insurances=p.insurances,
            now=self._clock(),
        )
        return cert

    def handle_certificate_verify(
        self, _t: str, _r: RpcRequest, p: CertificateVerifyParams
    ) -> Message:
        """Whether a code names a certificate this central signed (nothing but masked data)."""
        return verify_code(self._db, self._signer, p.verification_code)

    # ------------------------------------------------------------------ affairs

    def handle_employment_certificate(
        self, t: str, _r: RpcRequest, p: EmploymentCertificateParams
    ) -> Message:
        """Record a request for an employment certificate (prepared by the bureau)."""
        person = self._person(p.id_number)
        kind = "employment_certificate"

        def effect(_db: Storage) -> tuple[str, str, dict[str, Any]]:
            return ACCEPTED, "", {"purpose": p.purpose, "delivery": p.delivery}

        row, repeated = self._apply_once(p.request_key, kind, t, person[0], effect)
        return self._affair(kind, p.request_key, row, repeated)

    def handle_unemployment_register(
        self, t: str, _r: RpcRequest, p: UnemploymentRegisterParams
    ) -> Message:
        """Register unemployment once per person (a second registration is declined)."""
        person = self._person(p.id_number)
        kind = "unemployment_register"

        def effect(db: Storage) -> tuple[str, str, dict[str, Any]]:
            if person[2] == "retired":
                return DECLINED, "retired", {}
            fresh = db.query(
                "INSERT INTO unemployment_registrations (id_number, request_key, registered_at)"
                " VALUES (?,?,?) ON CONFLICT (id_number) DO NOTHING RETURNING id_number",
                (person[0], p.request_key, self._clock()),
            )
            if not fresh:
                return DECLINED, "already_registered", {}
            return ACCEPTED, "", {"last_employer": p.last_employer, "reason": p.reason}

        row, repeated = self._apply_once(p.request_key, kind, t, person[0], effect)
        return self._affair(kind, p.request_key, row, repeated)

    def handle_training_catalogue(
        self, _t: str, _r: RpcRequest, p: TrainingCatalogueParams
    ) -> Message:
        """The course catalogue (seats left now), by start date."""
        rows = self._db.query(
            "SELECT course_id, title, category, start_date, hours, seats, seats_taken, subsidised"
            " FROM courses WHERE (? = '' OR category = ?) ORDER BY start_date, course_id",
            (p.category, p.category),
        )
        return TrainingCatalogue(
            courses=[
                TrainingCourse(
                    course_id=r[0],
                    title=r[1],
                    category=r[2],
                    start_date=r[3],
                    hours=int(r[4]),
                    seats=int(r[5]),
                    seats_left=max(0, int(r[5]) - int(r[6])),
                    subsidised=bool(r[7]),
                )
                for r in rows
            ]
        )

    def handle_training_signup(self, t: str, _r: RpcRequest, p: TrainingSignupParams) -> Message:
        """One seat, once per person and course; a full course declines."""
        person = self._person(p.id_number)
        if self._db.one("SELECT 1 FROM courses WHERE course_id = ?", (p.course_id,)) is None:
            raise NotFoundError(f"no course {p.course_id[:12]}")
        kind = "training_signup"

        def effect(db: Storage) -> tuple[str, str, dict[str, Any]]:
            return self._take_seat(db, p.course_id, person[0], p.request_key)

        row, repeated = self._apply_once(p.request_key, kind, t, person[0], effect)
        return self._affair(kind, p.request_key, row, repeated)

    # ------------------------------------------------------------------ card loss

    def _loss(
        self, t: str, p: LossParams, kind: str, to_state: Literal["active", "temporary_lost"]
    ) -> LossResult:
        person = self._person(p.id_number)
        card = self._db.one(
            "SELECT state FROM cards WHERE card_number = ? AND id_number = ?",
            (p.card_number, person[0]),
        )
        if card is None:
            raise NotFoundError("no such card of this person")
        from_state = "active" if to_state == "temporary_lost" else "temporary_lost"

        def effect(db: Storage) -> tuple[str, str, dict[str, Any]]:
            changed = db.execute(
                "UPDATE cards SET state = ?, state_changed_at = ?"
                " WHERE card_number = ? AND state = ?",
                (to_state, self._clock(), p.card_number, from_state),
            )
            if changed != 1:
                return DECLINED, f"card_not_{from_state}", {}
            return ACCEPTED, "", {"card_state": to_state}

        row, repeated = self._apply_once(p.request_key, kind, t, person[0], effect)
        if row[0] == DECLINED:
            raise RejectedError(f"the card is not {from_state.replace('_', ' ')}", code="declined")
        return LossResult(
            request_key=p.request_key, card_state=to_state, reference_no=row[1], repeated=repeated
        )

    def handle_loss_report(self, t: str, _r: RpcRequest, p: LossParams) -> Message:
        """Temporary loss report: from now on every kiosk refuses the card."""
        return self._loss(t, p, "loss_report", "temporary_lost")

    def handle_loss_cancel(self, t: str, _r: RpcRequest, p: LossParams) -> Message:
        """Cancel a temporary loss report: the card serves again."""
        return self._loss(t, p, "loss_cancel", "active")

    # ------------------------------------------------------------------ pension

    def handle_pension_qualify(self, t: str, _r: RpcRequest, p: PensionQualifyParams) -> Message:
        """Record the year's qualification of a pensioner (card + face at the kiosk)."""
        person = self._person(p.id_number)
        kind = "pension_qualify"
        now = self._clock()
        this_year = dt.datetime.fromtimestamp(now, dt.UTC).year
        if p.year not in (this_year, this_year + 1):
            raise RejectedError("only this year's qualification can be recorded", code="declined")

        def effect(db: Storage) -> tuple[str, str, dict[str, Any]]:
            if person[2] != "retired":
                return DECLINED, "not_a_pensioner", {}
            db.execute(
                "INSERT INTO pension_qualifications (id_number, year, request_key, terminal_id,"
                " method, recorded_at) VALUES (?,?,?,?,?,?) ON CONFLICT (id_number, year)"
                " DO NOTHING",
                (person[0], p.year, p.request_key, t, "kiosk_face", now),
            )
            return ACCEPTED, "", {"year": p.year}

        row, repeated = self._apply_once(p.request_key, kind, t, person[0], effect)
        if row[0] == DECLINED:
            raise RejectedError("this person draws no pension", code="declined")
        recorded = self._db.one(
            "SELECT recorded_at FROM pension_qualifications WHERE id_number = ? AND year = ?",
            (person[0], p.year),
        )
        at = float(recorded[0]) if recorded else now
        day = dt.datetime.fromtimestamp(at, dt.UTC).date()
        return PensionQualification(
            request_key=p.request_key,
            year=p.year,
            qualified=True,
            recorded_at=at,
            reference_no=row[1],
            next_due=dt.date(day.year + 1, day.month, min(day.day, 28)).isoformat(),
            repeated=repeated,
        )
