"""The service RPCs on both backends, each business action applied once per key, every call with
a session token opened by a (software) card through session.open."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.certificates import TEST_KEY_SEED
from central.config import SeedConfig
from central.handlers import RpcService
from central.storage import Storage
from kiosk.contract import Channel, InsuredCertificate, RpcMethod, RpcResponse, decode
from tests.fixtures.central import TEST_HOLDER_ID, TEST_PHOTO
from tests.fixtures.soft_card import SoftCard
from tests.integration.central.test_trust import Clock, _call, _elevate, _open, _service

KEY = "svc-key-0000"


@pytest.fixture
def env(central_db: tuple[Storage, SeedConfig]) -> tuple[RpcService, Clock, Storage]:
    clock = Clock()
    clock.now = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC).timestamp()
    return _service(central_db[0], clock), clock, central_db[0]


def _ok(resp: RpcResponse) -> dict[str, Any]:
    assert resp.ok and resp.result is not None, resp.error
    return resp.result


def _card_of(db: Storage, id_number: str) -> SoftCard:
    row = db.one("SELECT card_id, card_number FROM cards WHERE id_number = ?", (id_number,))
    assert row is not None
    return SoftCard(bytes.fromhex(row[0]), row[1])


def _worker(db: Storage, n: int = 0) -> str:
    rows = db.query(
        "SELECT p.id_number FROM persons p JOIN cards c ON c.id_number = p.id_number"
        " WHERE p.status = 'active' AND c.state = 'active' ORDER BY p.id_number"
    )
    return str(rows[n][0])


def test_contributions_are_paged_and_the_yearly_series_adds_them_up(
    env: tuple[RpcService, Clock, Storage],
) -> None:
    svc, clock, db = env
    person = _worker(db)
    token = _open(svc, clock, _card_of(db, person)).token
    base = {"id_number": person, "insurance": "pension", "from_period": "202511"}
    every = _ok(
        _call(
            svc, RpcMethod.CONTRIBUTIONS, {**base, "to_period": "202610"}, token=token, clock=clock
        )
    )
    assert every["total"] == len(every["records"]) == 12
    pages = []
    for page in (1, 2, 3):
        got = _ok(
            _call(
                svc,
                RpcMethod.CONTRIBUTIONS,
                {**base, "to_period": "202610", "page": page, "page_size": 5},
                token=token,
                clock=clock,
            )
        )
        assert (got["total"], got["pages"], got["page"]) == (12, 3, page)
        pages += got["records"]
    assert pages == every["records"]
    series = _ok(
        _call(
            svc,
            RpcMethod.CONTRIBUTIONS_YEARLY,
            {"id_number": person, "insurance": "pension", "from_year": 2025, "to_year": 2026},
            token=token,
            clock=clock,
        )
    )
    paid = [r for r in every["records"] if r["paid"]]
    assert [p["year"] for p in series["points"]] == [2025, 2026]
    assert sum(p["months_paid"] for p in series["points"]) == len(paid)
    assert sum(p["personal_cents"] for p in series["points"]) == sum(
        r["personal_cents"] for r in paid
    )


def test_the_insured_certificate_is_signed_masked_verifiable_and_issued_once(
    env: tuple[RpcService, Clock, Storage],
) -> None:
    svc, clock, db = env
    person = _worker(db, 1)
    token = _open(svc, clock, _card_of(db, person)).token
    params = {"request_key": KEY, "id_number": person, "insurances": ["pension", "medical"]}
    cert = decode(
        InsuredCertificate,
        _ok(_call(svc, RpcMethod.CERTIFICATE_ISSUE, params, token=token, clock=clock)),
    )
    again = _ok(_call(svc, RpcMethod.CERTIFICATE_ISSUE, params, token=token, clock=clock))
    assert again["verification_code"] == cert.verification_code
    assert db.one("SELECT COUNT(*) FROM certificates") == (1,)
    # Masked holder: the full ID number and name appear nowhere in the document.
    name = db.one("SELECT name FROM persons WHERE id_number = ?", (person,))
    assert name is not None
    assert person not in cert.document and name[0] not in cert.document
    assert cert.id_number_masked == person[:3] + "*" * 11 + person[-4:]
    assert {p.insurance.value for p in cert.periods} == {"pension", "medical"}
    # The signature checks with the TEST public key, independently of the central's code.
    public = Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(TEST_KEY_SEED).digest()
    ).public_key()
    public.verify(base64.b64decode(cert.signature_b64), cert.document.encode())
    assert json.loads(cert.document)["verification_code"] == cert.verification_code
    # Verification needs no session; a wrong code and a tampered certificate are not valid.
    ok = _ok(
        _call(
            svc,
            RpcMethod.CERTIFICATE_VERIFY,
            {"verification_code": cert.verification_code.lower()},
            clock=clock,
        )
    )
    assert ok["valid"] is True and ok["certificate"]["certificate_id"] == cert.certificate_id
    bad = _ok(
        _call(
            svc,
            RpcMethod.CERTIFICATE_VERIFY,
            {"verification_code": "AAAA-BBBB-CCCC-DDDD"},
            clock=clock,
        )
    )
    assert bad["valid"] is False and bad["certificate"] is None
    fields = json.loads(cert.document)
    fields["periods"][0]["months"] += 12  # a forger adds a year of insurance
    forged = cert.model_copy(
        update={
            "document": json.dumps(
                fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            )
        }
    )
    db.execute(
        "UPDATE certificates SET body = ? WHERE certificate_id = ?",
        (forged.model_dump_json(), cert.certificate_id),
    )
    tampered = _ok(
        _call(
            svc,
            RpcMethod.CERTIFICATE_VERIFY,
            {"verification_code": cert.verification_code},
            clock=clock,
        )
    )
    assert tampered["valid"] is False and tampered["reason"] == "bad signature"


def test_kiosk_central_verify_on_the_command_line(env: tuple[RpcService, Clock, Storage]) -> None:
    svc, clock, db = env
    token = _open(svc, clock).token
    cert = _ok(
        _call(
            svc,
            RpcMethod.CERTIFICATE_ISSUE,
            {"request_key": KEY, "id_number": TEST_HOLDER_ID},
            token=token,
            clock=clock,
        )
    )
    env_vars = {**os.environ, "CENTRAL__STORAGE__URL": db.url}  # the same database
    cmd = [sys.executable, "-m", "central.cli", "verify"]
    good = subprocess.run(
        [*cmd, cert["verification_code"]], capture_output=True, text=True, env=env_vars, timeout=60
    )
    assert good.returncode == 0, good.stderr
    shown = json.loads(good.stdout)
    assert (
        shown["valid"] is True and shown["holder"] == "测**" and TEST_HOLDER_ID not in good.stdout
    )
    bad = subprocess.run(
        [*cmd, "ZZZZ-ZZZZ-ZZZZ-ZZZZ"], capture_output=True, text=True, env=env_vars, timeout=60
    )
    assert bad.returncode == 1 and "unknown verification code" in bad.stderr


def test_affairs_are_applied_once_per_key_and_keys_are_not_shared(
    env: tuple[RpcService, Clock, Storage],
) -> None:
    svc, clock, db = env
    person, other = _worker(db, 2), _worker(db, 3)
    token = _open(svc, clock, _card_of(db, person)).token
    other_token = _open(svc, clock, _card_of(db, other)).token
    cert = {"request_key": KEY, "id_number": person, "purpose": "入职", "delivery": "pickup"}
    first = _ok(_call(svc, RpcMethod.EMPLOYMENT_CERTIFICATE, cert, token=token, clock=clock))
    second = _ok(_call(svc, RpcMethod.EMPLOYMENT_CERTIFICATE, cert, token=token, clock=clock))
    assert first["state"] == "accepted" and not first["repeated"] and second["repeated"]
    assert first["reference_no"] == second["reference_no"]
    stolen = _call(
        svc,
        RpcMethod.EMPLOYMENT_CERTIFICATE,
        {**cert, "id_number": other},
        token=other_token,
        clock=clock,
    )
    assert not stolen.ok and stolen.error is not None and stolen.error.code == "forbidden"
    assert db.one("SELECT COUNT(*) FROM affairs") == (1,)
    reg = {
        "request_key": "unemp-00001",
        "id_number": person,
        "last_employer": "华兴机械有限公司",
        "separation_date": "2026-10-31",
        "reason": "contract_ended",
        "contact_phone": "13800000000",
    }
    assert (
        _ok(_call(svc, RpcMethod.UNEMPLOYMENT_REGISTER, reg, token=token, clock=clock))["state"]
        == "accepted"
    )
    twice = _ok(
        _call(
            svc,
            RpcMethod.UNEMPLOYMENT_REGISTER,
            {**reg, "request_key": "unemp-00002"},
            token=token,
            clock=clock,
        )
    )
    assert (twice["state"], twice["reason"]) == ("declined", "already_registered")
    holder = _open(svc, clock).token  # the test holder is retired
    retired = _ok(
        _call(
            svc,
            RpcMethod.UNEMPLOYMENT_REGISTER,
            {**reg, "request_key": "unemp-00003", "id_number": TEST_HOLDER_ID},
            token=holder,
            clock=clock,
        )
    )
    assert (retired["state"], retired["reason"]) == ("declined", "retired")


def test_training_catalogue_and_sign_up_until_the_course_is_full(
    env: tuple[RpcService, Clock, Storage],
) -> None:
    svc, clock, db = env
    catalogue = _ok(_call(svc, RpcMethod.TRAINING_CATALOGUE, {}, clock=clock))["courses"]
    assert len(catalogue) == 10 and all(c["seats_left"] == c["seats"] for c in catalogue)
    small = next(c for c in catalogue if c["seats"] == 2)
    care = _ok(_call(svc, RpcMethod.TRAINING_CATALOGUE, {"category": "care"}, clock=clock))[
        "courses"
    ]
    assert care and {c["category"] for c in care} == {"care"}
    outcomes = []
    for n in range(3):
        person = _worker(db, n)
        token = _open(svc, clock, _card_of(db, person)).token
        signup = {
            "request_key": f"train-{n:06d}",
            "id_number": person,
            "course_id": small["course_id"],
        }
        outcomes.append(
            _ok(_call(svc, RpcMethod.TRAINING_SIGNUP, signup, token=token, clock=clock))
        )
        if n == 0:
            again = {**signup, "request_key": "train-again-0"}
            dup = _ok(_call(svc, RpcMethod.TRAINING_SIGNUP, again, token=token, clock=clock))
            assert (dup["state"], dup["reason"]) == ("declined", "already_signed_up")
    assert [o["state"] for o in outcomes] == ["accepted", "accepted", "declined"]
    assert outcomes[2]["reason"] == "course_full"
    left = _ok(_call(svc, RpcMethod.TRAINING_CATALOGUE, {}, clock=clock))["courses"]
    assert next(c for c in left if c["course_id"] == small["course_id"])["seats_left"] == 0
    unknown = _call(
        svc,
        RpcMethod.TRAINING_SIGNUP,
        {"request_key": "train-x-0001", "id_number": _worker(db, 0), "course_id": "NOPE"},
        token=_open(svc, clock, _card_of(db, _worker(db, 0))).token,
        clock=clock,
    )
    assert unknown.error is not None and unknown.error.code == "not_found"


def test_flexible_employment_contribution_is_quoted_and_paid_exactly_once(
    env: tuple[RpcService, Clock, Storage],
) -> None:
    """The central quotes the amount; the payment must carry it (another amount: declined,
    nothing charged); the right one is charged once per key."""
    svc, clock, db = env
    person = _worker(db)
    card = _card_of(db, person)
    token = _open(svc, clock, card).token
    db.execute("UPDATE wallets SET balance_cents = 10000000 WHERE id_number = ?", (person,))
    quote = _ok(
        _call(
            svc,
            RpcMethod.CONTRIBUTION_QUOTE,
            {"id_number": person, "period": "202611"},
            token=token,
            clock=clock,
        )
    )
    base = db.one(
        "SELECT base_cents FROM contributions WHERE id_number = ? AND insurance = 'pension'"
        " AND period <= '202611' ORDER BY period DESC",
        (person,),
    )
    assert base is not None and quote["base_cents"] == int(base[0])
    assert quote["rate_permille"] == 200
    assert quote["amount_cents"] == (int(base[0]) * 200 + 500) // 1000
    before = db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (person,))
    pay = {
        "payment_key": "flex-000001",
        "id_number": person,
        "card_number": card.card_number,
        "purpose": "contribution",
        "reference": "202611",
        "amount_cents": quote["amount_cents"],
    }
    wrong = {**pay, "payment_key": "flex-000002", "amount_cents": quote["amount_cents"] // 2}
    refused = _ok(_call(svc, RpcMethod.PAYMENT_SUBMIT, wrong, token=token, clock=clock))
    assert (refused["state"], refused["reason"]) == ("declined", "amount_mismatch")
    first = _ok(_call(svc, RpcMethod.PAYMENT_SUBMIT, pay, token=token, clock=clock))
    second = _ok(_call(svc, RpcMethod.PAYMENT_SUBMIT, pay, token=token, clock=clock))
    assert first == second and first["state"] == "accepted"
    after = db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (person,))
    assert before is not None and after is not None
    assert after[0] == before[0] - quote["amount_cents"]
    # The month is paid now: not quoted again, and another key for it is declined.
    requote = _call(
        svc,
        RpcMethod.CONTRIBUTION_QUOTE,
        {"id_number": person, "period": "202611"},
        token=token,
        clock=clock,
    )
    assert requote.error is not None and requote.error.code == "already_paid"
    again = {**pay, "payment_key": "flex-000003"}
    twice = _ok(_call(svc, RpcMethod.PAYMENT_SUBMIT, again, token=token, clock=clock))
    assert (twice["state"], twice["reason"]) == ("declined", "already_paid")
    assert db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (person,)) == after
    # The quote is personal: only the person of the token is quoted.
    forbidden = _call(
        svc,
        RpcMethod.CONTRIBUTION_QUOTE,
        {"id_number": TEST_HOLDER_ID, "period": "202611"},
        token=token,
        clock=clock,
    )
    assert forbidden.error is not None and forbidden.error.code == "forbidden"


def test_pension_qualification_needs_the_face_and_is_recorded_once_a_year(
    env: tuple[RpcService, Clock, Storage],
) -> None:
    svc, clock, db = env
    session = _open(svc, clock, pin_verified=False)
    face = {
        "matched": True,
        "liveness": True,
        "score": 0.9,
        "reference_sha256": hashlib.sha256(TEST_PHOTO).hexdigest(),
    }
    token = _ok(_elevate(svc, clock, session.token, face=face))["token"]
    params = {"request_key": "pq-000000001", "id_number": TEST_HOLDER_ID, "year": 2026}
    first = _ok(_call(svc, RpcMethod.PENSION_QUALIFY, params, token=token, clock=clock))
    assert first["qualified"] and not first["repeated"] and first["next_due"] == "2027-11-20"
    again = _ok(_call(svc, RpcMethod.PENSION_QUALIFY, params, token=token, clock=clock))
    assert again["repeated"] and again["recorded_at"] == first["recorded_at"]
    rows = db.query(
        "SELECT year FROM pension_qualifications WHERE id_number = ?", (TEST_HOLDER_ID,)
    )
    assert sorted(r[0] for r in rows) == [2025, 2026]  # last year's from the seed, and this one
    past = _call(
        svc,
        RpcMethod.PENSION_QUALIFY,
        {**params, "request_key": "pq-000000002", "year": 2020},
        token=token,
        clock=clock,
    )
    assert past.error is not None and past.error.code == "declined"
    worker = _worker(db)
    card = _card_of(db, worker)
    w_session = _open(svc, clock, card)
    # A working person draws no pension (their own face proof would be needed first anyway).
    refused = _call(
        svc,
        RpcMethod.PENSION_QUALIFY,
        {**params, "request_key": "pq-000000003", "id_number": worker},
        token=w_session.token,
        clock=clock,
    )
    assert refused.error is not None and refused.error.code == "forbidden"


def test_queued_applications_take_effect_once_when_their_events_arrive(
    central: Any, broker: Any
) -> None:
    """Employment certificate, unemployment registration and training sign-up queued in the
    kiosk's outbox (offline) as the session records them; each redelivered: applied once."""
    from tests.integration.central.kiosk_client import Kiosk

    worker = central.query(
        "SELECT p.id_number, c.card_number FROM persons p JOIN cards c ON c.id_number = p.id_number"
        " WHERE p.status = 'active' AND c.state = 'active' ORDER BY p.id_number LIMIT 1"
    )[0]
    course = central.query("SELECT course_id FROM courses WHERE seats = 2")[0][0]
    kiosk = Kiosk(broker, "SSK-Q-0001")
    try:
        base = {"terminal_id": "SSK-Q-0001", "session_key": "s1", "id_number": worker[0]}
        bodies = []
        for kind, data in (
            ("application", {"type": "employment_certificate", "purpose": "入职"}),
            ("registration", {"type": "unemployment_registration"}),
            ("registration", {"type": "training", "course_id": course}),
            ("registration", {"type": "training", "course_id": course, "card_number": "nope"}),
        ):
            body = {
                **kiosk.envelope(),
                "kind": kind,
                "data": {"card_number": worker[1], **base, **data},
            }
            bodies.append(body)
            for _ in range(2):  # the outbox resends until the receipt: applied once
                kiosk.publish(Channel.EVENTS, body)
        receipts = kiosk.wait_receipts(8)
        assert {r["outcome"] for r in receipts} <= {"accepted", "duplicate"}
        affairs = dict(central.query("SELECT request_key, state || ':' || reason FROM affairs"))
        keys = [b["msg_id"] for b in bodies]
        assert [affairs[k] for k in keys] == [
            "accepted:",
            "accepted:",
            "accepted:",
            "declined:unknown_person_or_card",
        ]
        assert central.query("SELECT seats_taken FROM courses WHERE course_id = ?", (course,)) == [
            (1,)
        ]
        assert central.query("SELECT COUNT(*) FROM unemployment_registrations") == [(1,)]
    finally:
        kiosk.close()


def test_concurrent_workers_apply_one_key_once_and_sell_no_seat_twice(
    central_db: tuple[Storage, SeedConfig],
) -> None:
    """Four workers (own connections, own threads) at once: the same sign-up key redelivered to
    all of them takes one seat; six persons racing for the two seats of a course get two."""
    db, _ = central_db
    from central.certificates import CertificateSigner
    from central.services import ServiceHandlers
    from kiosk.contract import RpcRequest, TrainingSignupParams

    clock = Clock()
    signer = CertificateSigner.load(None)
    small = db.query("SELECT course_id FROM courses WHERE seats = 2")[0][0]
    other = db.query("SELECT course_id FROM courses WHERE seats > 2 ORDER BY course_id")[0][0]
    people = [_worker(db, n) for n in range(6)]
    request = RpcRequest(
        msg_id="r" * 8, terminal_id="SSK-T-0001", boot_id="b", seq=1, wall=clock.now,
        method=RpcMethod.TRAINING_SIGNUP, deadline=clock.now + 10,
    )  # fmt: skip
    same_key = TrainingSignupParams(request_key="same-key-01", id_number=people[0], course_id=other)
    barrier = threading.Barrier(4)
    answers: list[tuple[str, str]] = []

    def worker(index: int) -> None:
        with Storage(db.url) as own:
            services = ServiceHandlers(own, signer, clock)
            barrier.wait()
            for _ in range(3):
                r = services.handle_training_signup("SSK-T-0001", request, same_key)
                answers.append(("same", r.model_dump()["state"]))
            for person in people[index::4]:
                race = TrainingSignupParams(
                    request_key=f"race-{person}", id_number=person, course_id=small
                )
                r = services.handle_training_signup("SSK-T-0001", request, race)
                answers.append(("race", r.model_dump()["state"]))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [s for k, s in answers if k == "same"] == ["accepted"] * 12
    race = [s for k, s in answers if k == "race"]
    assert sorted(race) == ["accepted"] * 2 + ["declined"] * 4
    taken = db.query(
        "SELECT course_id, seats_taken FROM courses WHERE course_id IN (?, ?)", (small, other)
    )
    assert dict(taken) == {small: 2, other: 1}
    assert db.one("SELECT COUNT(*) FROM course_signups WHERE course_id = ?", (small,)) == (2,)


def test_a_challenge_answered_on_four_workers_at_once_opens_one_session(
    central_db: tuple[Storage, SeedConfig],
) -> None:
    """A replay race: the genuine answer sent to four workers at the same moment."""
    db, _ = central_db
    from central.trust import ForbiddenError, SessionTrust
    from kiosk.contract import SessionChallenge, SessionChallengeParams, SessionOpenParams
    from tests.fixtures.soft_card import holder_soft_card

    clock = Clock()
    trust = SessionTrust(clock=clock)
    ch = trust.challenge(db, "SSK-T-0001", SessionChallengeParams())
    assert isinstance(ch, SessionChallenge)
    card = holder_soft_card()
    params = SessionOpenParams(
        challenge_id=ch.challenge_id,
        card_id_hex=card.card_id.hex(),
        card_number=card.card_number,
        answer_hex=card.answer(bytes.fromhex(ch.challenge_hex)).hex(),
        pin_verified=True,
    )
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def worker() -> None:
        with Storage(db.url) as own:
            barrier.wait()
            try:
                trust.open(own, "SSK-T-0001", params)
                outcomes.append("opened")
            except ForbiddenError:
                outcomes.append("forbidden")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["forbidden"] * 3 + ["opened"]
