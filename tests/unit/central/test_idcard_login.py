"""The ID card login at the central (central/idcard_login.py), on both backends through
`RpcService.handle`: the policy, every refusal, the central's OWN face match (real dlib on real
photos: the holder's reference is the astronaut, the attacker is Grace Hopper), the rate limit,
the token's records-only scope, and that nothing biometric outlives the check."""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

import central.idcard_login as idcard_login
import drivers.camera.verify as verify
from central.config import LedgerConfig, SeedConfig, TrustConfig
from central.errors import CentralError
from central.handlers import RpcService
from central.ledger import Ledger
from central.storage import Storage
from central.trust import DEFAULT_ALTERNATIVES, IDCARD_FACE_NEVER, SessionTrust
from drivers.camera.frames import encode_jpeg
from drivers.camera.results import Image
from drivers.camera.service import FaceVerifier
from kiosk.contract import (
    CONTRACT_VERSION,
    Credential,
    RpcMethod,
    RpcRequest,
    RpcResponse,
    SessionTokenResult,
    decode,
)
from tests.fixtures.central import TEST_CARD_NUMBER, TEST_HOLDER_ID

TERMINAL = "SSK-T-0001"
OTHER_TERMINAL = "SSK-T-0002"
HOLDER_NAME = "测试员"
NOW = 1_790_000_000.0  # 2026-09-21


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


Chips = dict[str, str]


@pytest.fixture(scope="module")
def chips(face_verifier: FaceVerifier, framed: dict[str, Image]) -> Chips:
    """The aligned crop a terminal's live check sends, base64: the holder's and an attacker's."""
    out: Chips = {}
    for name in ("astronaut", "grace_hopper"):
        _, faces = face_verifier.detector.detect(framed[name])
        crop = face_verifier.embedder.chip(framed[name], faces[0])
        out[name] = base64.b64encode(encode_jpeg(crop)).decode()
    return out


@pytest.fixture
def db(
    central_db: tuple[Storage, SeedConfig], reference_jpeg: Callable[[str], bytes]
) -> Storage:
    storage = central_db[0]
    # The central's reference photo of the test holder: a real face (the astronaut).
    storage.execute(
        "UPDATE persons SET photo = ? WHERE id_number = ?",
        (reference_jpeg("astronaut"), TEST_HOLDER_ID),
    )
    return storage


def _service(db: Storage, clock: Clock, **trust: Any) -> RpcService:
    config = TrustConfig(**{"idcard_login": True, **trust})
    return RpcService(
        db, Ledger(db, LedgerConfig(), clock), clock, trust=SessionTrust(config, clock)
    )


def _call(
    svc: RpcService,
    method: RpcMethod,
    params: dict[str, Any],
    clock: Clock,
    *,
    token: str = "",
    terminal: str = TERMINAL,
) -> RpcResponse:
    req = RpcRequest(
        v=CONTRACT_VERSION,
        msg_id=str(uuid.uuid4()),
        terminal_id=terminal,
        boot_id="b",
        seq=1,
        wall=clock.now,
        method=method,
        params=params,
        deadline=clock.now + 10,
        session_token=token,
    )
    return svc.handle(terminal, req)


def _login_params(chip: str, **kw: Any) -> dict[str, Any]:
    return {
        "id_number": TEST_HOLDER_ID,
        "name": HOLDER_NAME,
        "card_type": "resident",
        "valid_until": "2035-01-01",
        "liveness": {"live": True, "challenges": 3, "same_face": True},
        "face_jpeg_b64": chip,
        **kw,
    }


def _login(
    svc: RpcService, clock: Clock, chip: str, terminal: str = TERMINAL, **kw: Any
) -> RpcResponse:
    return _call(svc, RpcMethod.IDCARD_LOGIN, _login_params(chip, **kw), clock, terminal=terminal)


def _refused(resp: RpcResponse, code: str) -> str:
    """Refused with `code`, naming nobody."""
    assert not resp.ok and resp.error is not None and resp.result is None, resp
    assert resp.error.code == code, resp.error
    text = resp.model_dump_json()
    for secret in (TEST_HOLDER_ID, TEST_HOLDER_ID[-6:], HOLDER_NAME, TEST_CARD_NUMBER):
        assert secret not in text
    return resp.error.message


def _opened(resp: RpcResponse) -> SessionTokenResult:
    assert resp.ok and resp.result is not None, resp.error
    return decode(SessionTokenResult, resp.result)


PERSON = {"id_number": TEST_HOLDER_ID}


def _jpeg_declaring(width: int, height: int) -> str:
    """A tiny JPEG whose header declares `width` x `height` (a decompression bomb)."""
    small = bytearray(encode_jpeg(np.zeros((8, 8, 3), np.uint8)))
    sof = small.index(b"\xff\xc0")
    small[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return base64.b64encode(bytes(small)).decode()


_BOMB = _jpeg_declaring(60000, 60000)
_FRAME = base64.b64encode(encode_jpeg(np.full((480, 640, 3), 128, np.uint8))).decode()


def test_the_holder_with_the_id_card_and_the_own_face_gets_a_records_session(
    db: Storage, chips: Chips
) -> None:
    clock = Clock()
    svc = _service(db, clock)
    session = _opened(_login(svc, clock, chips["astronaut"]))
    assert session.credentials == [Credential.IDCARD_FACE]
    assert session.id_number == TEST_HOLDER_ID and session.expires_at == NOW + 300
    summary = _call(svc, RpcMethod.PERSON_SUMMARY, PERSON, clock, token=session.token)
    assert summary.ok and summary.result is not None and summary.result["name"] == HOLDER_NAME
    contributions = _call(
        svc,
        RpcMethod.CONTRIBUTIONS,
        {**PERSON, "insurance": "pension", "from_period": "202101", "to_period": "202610"},
        clock,
        token=session.token,
    )
    assert contributions.ok, contributions.error
    cert = {**PERSON, "request_key": "cert-idcard-1"}
    issued = _call(svc, RpcMethod.CERTIFICATE_ISSUE, cert, clock, token=session.token)
    assert issued.ok, issued.error
    rows = db.query("SELECT terminal_id, id_masked, outcome FROM idcard_login_attempts")
    assert rows == [(TERMINAL, "110***********002X", "accepted")]


def test_another_persons_face_with_the_victims_id_card_is_refused_by_the_centrals_match(
    db: Storage, chips: Chips
) -> None:
    """The attack: a tampered terminal reads the victim's card and sends the attacker's live
    face, claiming liveness. Only the central's own comparison decides."""
    clock = Clock()
    svc = _service(db, clock)
    _refused(_login(svc, clock, chips["grace_hopper"]), "idcard.face_mismatch")
    rows = db.query("SELECT outcome FROM idcard_login_attempts")
    assert rows == [("idcard.face_mismatch",)]


def test_policy_off_refuses_whatever_the_terminal_sends(db: Storage, chips: Chips) -> None:
    clock = Clock()
    off = RpcService(db, Ledger(db, LedgerConfig(), clock), clock, trust=SessionTrust(None, clock))
    assert off.trust.config.idcard_login is False  # the default
    _refused(_login(off, clock, chips["astronaut"]), "forbidden")
    listed = _service(db, clock, idcard_login_terminals=[OTHER_TERMINAL])
    _refused(_login(listed, clock, chips["astronaut"]), "forbidden")
    assert _login(listed, clock, chips["astronaut"], terminal=OTHER_TERMINAL).ok


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"valid_until": "2026-09-20"}, "idcard.expired"),
        ({"valid_until": "2026-02-30"}, "idcard.not_recognised"),  # no such day
        ({"name": "测试"}, "idcard.not_recognised"),
        ({"id_number": "110105194912310029"}, "idcard.not_recognised"),  # bad check digit
        ({"id_number": "110101199003070035"}, "idcard.not_recognised"),  # nobody insured
        ({"liveness": {"live": False, "challenges": 3, "same_face": True}}, "forbidden"),
        ({"liveness": {"live": True, "challenges": 3, "same_face": False}}, "forbidden"),
        ({"liveness": {"live": True, "challenges": 2, "same_face": True}}, "forbidden"),
        ({"liveness": {"live": True, "challenges": 0, "same_face": True}}, "forbidden"),
        ({"face_jpeg_b64": base64.b64encode(b"\xff\xd8 not a jpeg " * 4).decode()}, "forbidden"),
        ({"face_jpeg_b64": "!!!! not base64 !!!!"}, "forbidden"),
        ({"face_jpeg_b64": _BOMB}, "forbidden"),  # 60000x60000 declared in a few bytes
        ({"face_jpeg_b64": _FRAME}, "forbidden"),  # a whole frame, not the aligned crop
    ],
)
def test_each_refusal_has_its_code_and_names_nobody(
    db: Storage, chips: Chips, change: dict[str, Any], code: str
) -> None:
    clock = Clock()
    svc = _service(db, clock)
    _refused(_login(svc, clock, chips["astronaut"], **change), code)


def test_a_reference_photo_without_a_face_refuses_and_the_attempt_is_recorded(
    db: Storage, chips: Chips
) -> None:
    db.execute(
        "UPDATE persons SET photo = ? WHERE id_number = ?",
        (encode_jpeg(np.full((125, 100, 3), 200, np.uint8)), TEST_HOLDER_ID),
    )
    clock = Clock()
    msg = _refused(_login(_service(db, clock), clock, chips["astronaut"]), "forbidden")
    assert "reference photo" in msg
    assert db.query("SELECT outcome FROM idcard_login_attempts") == [("forbidden",)]


def test_unknown_holder_and_wrong_name_answer_alike(db: Storage, chips: Chips) -> None:
    """A prober learns nothing about who is insured from the refusal."""
    clock = Clock()
    svc = _service(db, clock)
    wrong_name = _refused(
        _login(svc, clock, chips["astronaut"], name="李四"), "idcard.not_recognised"
    )
    unknown = _refused(
        _login(svc, clock, chips["astronaut"], id_number="110101199003070035"),
        "idcard.not_recognised",
    )
    assert wrong_name == unknown


def test_a_deceased_holder_is_refused_and_a_lost_card_does_not_stop_the_lookup(
    db: Storage, chips: Chips
) -> None:
    clock = Clock()
    svc = _service(db, clock)
    db.execute("UPDATE cards SET state = 'temporary_lost' WHERE id_number = ?", (TEST_HOLDER_ID,))
    session = _opened(_login(svc, clock, chips["astronaut"]))
    assert _call(svc, RpcMethod.PERSON_SUMMARY, PERSON, clock, token=session.token).ok
    db.execute("UPDATE persons SET status = 'deceased' WHERE id_number = ?", (TEST_HOLDER_ID,))
    _refused(_login(svc, clock, chips["astronaut"]), "forbidden")


def test_the_token_serves_records_only_even_if_the_kiosk_asks_for_more(
    db: Storage, chips: Chips
) -> None:
    clock = Clock()
    svc = _service(db, clock)
    token = _opened(_login(svc, clock, chips["astronaut"])).token
    bill_id, amount = db.query(
        "SELECT bill_id, amount_cents FROM bills WHERE holder_id = ? AND status = 'unpaid'",
        (TEST_HOLDER_ID,),
    )[0]
    before = db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (TEST_HOLDER_ID,))
    pay = {
        "payment_key": "pay-idcard-1",
        "id_number": TEST_HOLDER_ID,
        "purpose": "utility_bill",
        "reference": bill_id,
        "amount_cents": int(amount),
    }
    msg = _refused(_call(svc, RpcMethod.PAYMENT_SUBMIT, pay, clock, token=token), "forbidden")
    assert "social security card" in msg
    after = db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (TEST_HOLDER_ID,))
    assert before == after
    status = _call(svc, RpcMethod.PAYMENT_STATUS, {"payment_key": "pay-idcard-1"}, clock)
    assert status.ok and status.result is not None and status.result["state"] == "declined"
    refused: list[tuple[RpcMethod, dict[str, Any]]] = [
        (RpcMethod.BILLS, {"utility": "water", "account_number": "10000001"}),
        (RpcMethod.ACTIVATION_APPROVE, {**PERSON, "activation_key": "act-idcard-1",
                                        "card_number": TEST_CARD_NUMBER}),
        (RpcMethod.LOSS_REPORT, {**PERSON, "request_key": "loss-idcard-1",
                                 "card_number": TEST_CARD_NUMBER}),
        (RpcMethod.PHOTO_REFERENCE, PERSON),
        (RpcMethod.SESSION_ELEVATE, {"challenge_id": "c" * 16, "answer_hex": "00" * 16}),
        (RpcMethod.PENSION_QUALIFY, {**PERSON, "request_key": "pq-idcard-1", "year": 2026}),
        (RpcMethod.PERSON_SUMMARY, {"id_number": "110101199003070035"}),  # another person
        (RpcMethod.PERSON_SUMMARY, {**PERSON, "card_number": TEST_CARD_NUMBER}),
    ]
    for method, params in refused:
        resp = _call(svc, method, params, clock, token=token)
        assert not resp.ok and resp.error is not None, method
        assert resp.error.code == "forbidden", (method, resp.error)


def test_the_requirement_table_says_what_the_id_card_login_may_do(
    db: Storage, chips: Chips
) -> None:
    assert all(
        alt == (frozenset({Credential.IDCARD_FACE}),) for alt in DEFAULT_ALTERNATIVES.values()
    )
    assert not set(DEFAULT_ALTERNATIVES) & IDCARD_FACE_NEVER
    assert RpcMethod.PAYMENT_SUBMIT in IDCARD_FACE_NEVER
    clock = Clock()
    # A deployment narrows it: the summary back to card + PIN only.
    narrow = _service(db, clock, requirements={"person.summary": ["card", "pin"]})
    token = _opened(_login(narrow, clock, chips["astronaut"])).token
    _refused(_call(narrow, RpcMethod.PERSON_SUMMARY, PERSON, clock, token=token), "forbidden")
    # ...or widens it with alternatives, except where it never may: money stays refused.
    wide = _service(
        db,
        clock,
        requirements={
            "pension.qualify": [["card", "face"], ["idcard_face"]],
            "payment.submit": [["card", "pin"], ["idcard_face"]],
        },
    )
    assert wide.trust.requirements[RpcMethod.PENSION_QUALIFY] == (
        frozenset({Credential.CARD, Credential.FACE}),
        frozenset({Credential.IDCARD_FACE}),
    )
    token = _opened(_login(wide, clock, chips["astronaut"])).token
    pay = {"payment_key": "pay-idcard-2", **PERSON, "purpose": "contribution",
           "reference": "202610", "amount_cents": 100}
    _refused(_call(wide, RpcMethod.PAYMENT_SUBMIT, pay, clock, token=token), "forbidden")
    with pytest.raises(CentralError):
        SessionTrust(TrustConfig(requirements={"person.summary": [["card"], ["id_card"]]}))
    with pytest.raises(ValidationError):  # a set and alternatives mixed
        TrustConfig(requirements={"person.summary": ["card", ["pin"]]})  # type: ignore[dict-item]


def test_attempts_are_limited_per_terminal_and_per_id_number(db: Storage, chips: Chips) -> None:
    """A tampered terminal cannot probe: three tries per window, then even the right face is
    refused, at this terminal and, for this ID number, at every other; the window ends."""
    clock = Clock()
    svc = _service(db, clock)
    for _ in range(3):
        _refused(_login(svc, clock, chips["grace_hopper"]), "idcard.face_mismatch")
    _refused(_login(svc, clock, chips["astronaut"]), "idcard.rate_limited")
    _refused(_login(svc, clock, chips["astronaut"], terminal=OTHER_TERMINAL), "idcard.rate_limited")
    clock.now += 601
    assert _login(svc, clock, chips["astronaut"]).ok
    # Per terminal: one terminal trying several ID numbers is stopped as well.
    clock.now += 601
    for n in range(3):
        _refused(_login(svc, clock, chips["astronaut"], name=f"某{n}"), "idcard.not_recognised")
    _refused(
        _login(svc, clock, chips["astronaut"], id_number="110101199003070035"),
        "idcard.rate_limited",
    )
    outcomes = [r[0] for r in db.query("SELECT outcome FROM idcard_login_attempts ORDER BY at")]
    assert outcomes.count("idcard.rate_limited") == 3 and "open" not in outcomes


def test_a_replayed_login_request_counts_as_another_attempt(db: Storage, chips: Chips) -> None:
    """The same request sent again (a recorded crop replayed by a tampered terminal) is no free
    retry: each one is an attempt, and the fourth in the window is refused."""
    clock = Clock()
    svc = _service(db, clock)
    params = _login_params(chips["astronaut"])
    for _ in range(3):
        assert _call(svc, RpcMethod.IDCARD_LOGIN, params, clock).ok
    _refused(_call(svc, RpcMethod.IDCARD_LOGIN, params, clock), "idcard.rate_limited")


def test_the_audit_log_masks_the_id_and_nothing_biometric_survives(
    db: Storage, chips: Chips, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    wiped: list[np.ndarray] = []
    real_wipe = verify.wipe

    def recording_wipe(*arrays: Any) -> None:
        real_wipe(*arrays)
        wiped.extend(a for a in arrays if a is not None)

    monkeypatch.setattr(idcard_login, "wipe", recording_wipe)
    clock = Clock()
    svc = _service(db, clock)
    with caplog.at_level(logging.INFO):
        assert _login(svc, clock, chips["astronaut"]).ok
        _refused(_login(svc, clock, chips["grace_hopper"]), "idcard.face_mismatch")
    audit = [r.getMessage() for r in caplog.records if r.name == "central.audit.idcard_login"]
    assert len(audit) == 2 and all("110***********002X" in m for m in audit), audit
    assert "accepted" in audit[0] and "idcard.face_mismatch" in audit[1]
    text = caplog.text
    assert TEST_HOLDER_ID not in text and HOLDER_NAME not in text
    assert chips["astronaut"][:40] not in text
    # Both embeddings of both checks were zeroed before the answer went out.
    assert len(wiped) == 4 and all(not a.any() for a in wiped)
    assert db.query("SELECT COUNT(*) FROM idcard_login_attempts")[0][0] == 2
