"""The central trusts only a present card: every attack on session.open and on the session token,
on both backends, through `RpcService.handle` (the MQTT path is in test_trust_e2e.py).

The card is a `SoftCard`: the emulator's own cipher code with the emulator's TEST keys."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

import pytest

from central.config import LedgerConfig, SeedConfig
from central.handlers import RpcService
from central.ledger import Ledger
from central.storage import Storage
from central.trust import DEFAULT_REQUIREMENTS, PUBLIC_METHODS
from kiosk.contract import (
    CONTRACT_VERSION,
    Credential,
    RpcMethod,
    RpcRequest,
    RpcResponse,
    SessionTokenResult,
    decode,
)
from tests.fixtures.central import TEST_CARD_NUMBER, TEST_HOLDER_ID, TEST_PHOTO, TEST_TEMPLATE
from tests.fixtures.soft_card import SoftCard, holder_soft_card

TERMINAL = "SSK-T-0001"
OTHER_TERMINAL = "SSK-T-0002"
HOLDER_NAME = "测试员"


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def _service(db: Storage, clock: Clock) -> RpcService:
    return RpcService(db, Ledger(db, LedgerConfig(), clock), clock)


def _call(
    svc: RpcService,
    method: RpcMethod,
    params: dict[str, Any],
    *,
    token: str = "",
    terminal: str = TERMINAL,
    clock: Clock,
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


def _challenge(
    svc: RpcService, clock: Clock, terminal: str = TERMINAL, **kw: Any
) -> dict[str, Any]:
    resp = _call(svc, RpcMethod.SESSION_CHALLENGE, kw, terminal=terminal, clock=clock)
    assert resp.ok and resp.result is not None, resp.error
    return resp.result


def _open_params(card: SoftCard, challenge: dict[str, Any], **kw: Any) -> dict[str, Any]:
    answer = card.answer(bytes.fromhex(challenge["challenge_hex"]))
    return {
        "challenge_id": challenge["challenge_id"],
        "card_id_hex": card.card_id.hex(),
        "card_number": card.card_number,
        "answer_hex": answer.hex(),
        "pin_verified": True,
        **kw,
    }


def _open(
    svc: RpcService, clock: Clock, card: SoftCard | None = None, terminal: str = TERMINAL, **kw: Any
) -> SessionTokenResult:
    card = card or holder_soft_card()
    purpose = {"purpose": kw["purpose"]} if "purpose" in kw else {}
    params = _open_params(card, _challenge(svc, clock, terminal, **purpose), **kw)
    resp = _call(svc, RpcMethod.SESSION_OPEN, params, terminal=terminal, clock=clock)
    assert resp.ok and resp.result is not None, resp.error
    return decode(SessionTokenResult, resp.result)


def _face(**kw: Any) -> dict[str, Any]:
    return {
        "matched": True,
        "liveness": True,
        "score": 0.93,
        "reference_sha256": hashlib.sha256(TEST_PHOTO).hexdigest(),
        **kw,
    }


def _elevate(
    svc: RpcService, clock: Clock, token: str, card: SoftCard | None = None, **kw: Any
) -> RpcResponse:
    card = card or holder_soft_card()
    ch = _challenge(svc, clock)
    params = {
        "challenge_id": ch["challenge_id"],
        "answer_hex": card.answer(bytes.fromhex(ch["challenge_hex"])).hex(),
        **kw,
    }
    return _call(svc, RpcMethod.SESSION_ELEVATE, params, token=token, clock=clock)


def _refused(resp: RpcResponse, code: str = "forbidden") -> str:
    """Refused with `code`, and nothing personal anywhere in the answer."""
    assert not resp.ok and resp.error is not None and resp.result is None
    assert resp.error.code == code, resp.error
    text = resp.model_dump_json()
    for secret in (TEST_HOLDER_ID, TEST_HOLDER_ID[-6:], HOLDER_NAME, TEST_CARD_NUMBER):
        assert secret not in text
    return resp.error.message


PERSON = {"id_number": TEST_HOLDER_ID}


@pytest.fixture
def svc_clock(central_db: tuple[Storage, SeedConfig]) -> tuple[RpcService, Clock]:
    clock = Clock()
    return _service(central_db[0], clock), clock


def test_a_present_card_opens_a_session_and_its_token_serves_the_holder(
    svc_clock: tuple[RpcService, Clock],
) -> None:
    svc, clock = svc_clock
    session = _open(svc, clock)
    assert set(session.credentials) == {Credential.CARD, Credential.PIN}
    assert session.id_number == TEST_HOLDER_ID and session.id_number_masked == "110***********002X"
    assert session.expires_at == clock.now + 300
    resp = _call(svc, RpcMethod.PERSON_SUMMARY, PERSON, token=session.token, clock=clock)
    assert resp.ok and resp.result is not None and resp.result["name"] == HOLDER_NAME


def test_no_token_expired_token_and_forged_token_are_refused(
    svc_clock: tuple[RpcService, Clock],
) -> None:
    svc, clock = svc_clock
    assert "token is needed" in _refused(_call(svc, RpcMethod.PERSON_SUMMARY, PERSON, clock=clock))
    token = _open(svc, clock).token
    head, _, tag = token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    claims["cred"] = sorted(c.value for c in Credential)  # self-promoted to every credential
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in (f"{forged}.{tag}", token[:-2] + "AA", "garbage", "a.b"):
        _refused(_call(svc, RpcMethod.PERSON_SUMMARY, PERSON, token=bad, clock=clock))
    clock.now += 301
    assert "expired" in _refused(
        _call(svc, RpcMethod.PERSON_SUMMARY, PERSON, token=token, clock=clock)
    )


def test_another_terminals_token_and_another_persons_request_are_refused(
    svc_clock: tuple[RpcService, Clock], central_db: tuple[Storage, SeedConfig]
) -> None:
    svc, clock = svc_clock
    token = _open(svc, clock).token
    _refused(
        _call(
            svc, RpcMethod.PERSON_SUMMARY, PERSON, token=token, terminal=OTHER_TERMINAL, clock=clock
        )
    )
    other = central_db[0].one(
        "SELECT id_number FROM persons WHERE id_number <> ?", (TEST_HOLDER_ID,)
    )
    assert other is not None
    for method, params in (
        (RpcMethod.PERSON_SUMMARY, {"id_number": other[0]}),
        (RpcMethod.ACCOUNTS, {"id_number": other[0]}),
        (RpcMethod.PHOTO_REFERENCE, {"id_number": other[0]}),
    ):
        resp = _call(svc, method, params, token=token, clock=clock)
        assert "does not cover this person" in _refused(resp)
        assert other[0] not in resp.model_dump_json()


def test_a_service_that_needs_the_face_check_refuses_a_card_and_pin_token(
    svc_clock: tuple[RpcService, Clock],
) -> None:
    svc, clock = svc_clock
    token = _open(svc, clock).token
    qualify = {"request_key": "qualify-0001", "id_number": TEST_HOLDER_ID, "year": 2026}
    assert "needs face" in _refused(
        _call(svc, RpcMethod.PENSION_QUALIFY, qualify, token=token, clock=clock)
    )
    approve = {
        "activation_key": "act-000001",
        "id_number": TEST_HOLDER_ID,
        "card_number": "T00000001",
    }
    assert "needs face, fingerprint" in _refused(
        _call(svc, RpcMethod.ACTIVATION_APPROVE, approve, token=token, clock=clock)
    )
    # A face proof that did not match, or without liveness, or against another photo: refused.
    for face in (_face(matched=False), _face(liveness=False), _face(reference_sha256="0" * 64)):
        _refused(_elevate(svc, clock, token, face=face))
    elevated = _elevate(svc, clock, token, face=_face())
    assert elevated.ok and elevated.result is not None
    face_token = elevated.result["token"]
    assert set(elevated.result["credentials"]) == {"card", "pin", "face"}
    ok = _call(svc, RpcMethod.PENSION_QUALIFY, qualify, token=face_token, clock=clock)
    assert ok.ok, ok.error
    _refused(_call(svc, RpcMethod.ACTIVATION_APPROVE, approve, token=face_token, clock=clock))
    finger = {
        "matched": True,
        "score": 120,
        "template_sha256": hashlib.sha256(TEST_TEMPLATE).hexdigest(),
    }
    full = _elevate(svc, clock, face_token, fingerprint=finger)
    assert full.ok and full.result is not None
    approved = _call(
        svc, RpcMethod.ACTIVATION_APPROVE, approve, token=full.result["token"], clock=clock
    )
    assert approved.ok and approved.result is not None and approved.result["state"] == "approved"


def test_a_forged_answer_a_replayed_answer_and_a_foreign_card_are_refused(
    svc_clock: tuple[RpcService, Clock],
) -> None:
    svc, clock = svc_clock
    card = holder_soft_card()
    ch = _challenge(svc, clock)
    forged = _open_params(card, ch)
    forged["answer_hex"] = "00" * 16
    assert "failed the central's challenge" in _refused(
        _call(svc, RpcMethod.SESSION_OPEN, forged, clock=clock)
    )
    # The forged attempt burnt the challenge: the right answer to it no longer opens anything.
    _refused(_call(svc, RpcMethod.SESSION_OPEN, _open_params(card, ch), clock=clock))
    # Replay: a genuine exchange, then the same answer again.
    ch = _challenge(svc, clock)
    genuine = _open_params(card, ch)
    assert _call(svc, RpcMethod.SESSION_OPEN, genuine, clock=clock).ok
    assert "used or expired" in _refused(_call(svc, RpcMethod.SESSION_OPEN, genuine, clock=clock))
    # Another terminal cannot use this terminal's challenge.
    ch = _challenge(svc, clock)
    _refused(
        _call(
            svc,
            RpcMethod.SESSION_OPEN,
            _open_params(card, ch),
            terminal=OTHER_TERMINAL,
            clock=clock,
        )
    )
    # A card whose keys come from another master key (a foreign issuer).
    foreign = holder_soft_card(key_set="foreign")
    _refused(
        _call(
            svc, RpcMethod.SESSION_OPEN, _open_params(foreign, _challenge(svc, clock)), clock=clock
        )
    )
    # The right answer with another card's identity claimed.
    claimed = _open_params(card, _challenge(svc, clock))
    claimed["card_id_hex"] = "110105D156000005" + "00" * 8
    _refused(_call(svc, RpcMethod.SESSION_OPEN, claimed, clock=clock))
    # An expired challenge.
    ch = _challenge(svc, clock)
    clock.now += 31
    _refused(_call(svc, RpcMethod.SESSION_OPEN, _open_params(card, ch), clock=clock))


def test_without_pin_the_token_serves_only_what_needs_the_card_alone(
    svc_clock: tuple[RpcService, Clock],
) -> None:
    svc, clock = svc_clock
    token = _open(svc, clock, pin_verified=False).token
    assert _call(svc, RpcMethod.PHOTO_REFERENCE, PERSON, token=token, clock=clock).ok
    assert "needs pin" in _refused(
        _call(svc, RpcMethod.PERSON_SUMMARY, PERSON, token=token, clock=clock)
    )


def test_a_lost_card_is_refused_everywhere_until_its_loss_is_cancelled(
    svc_clock: tuple[RpcService, Clock],
) -> None:
    svc, clock = svc_clock
    session = _open(svc, clock)
    loss = {"request_key": "loss-00000001", "id_number": TEST_HOLDER_ID, "card_number": "T00000001"}
    reported = _call(svc, RpcMethod.LOSS_REPORT, loss, token=session.token, clock=clock)
    assert reported.ok and reported.result is not None
    assert reported.result["card_state"] == "temporary_lost"
    # The live token of the same session stops serving, and no kiosk opens a new session.
    _refused(
        _call(svc, RpcMethod.PERSON_SUMMARY, PERSON, token=session.token, clock=clock), "card_lost"
    )
    card = holder_soft_card()
    for terminal in (TERMINAL, OTHER_TERMINAL):
        params = _open_params(card, _challenge(svc, clock, terminal))
        _refused(
            _call(svc, RpcMethod.SESSION_OPEN, params, terminal=terminal, clock=clock), "card_lost"
        )
    # A loss_cancel session may cancel, and only cancel.
    cancel_session = _open(svc, clock, terminal=OTHER_TERMINAL, purpose="loss_cancel")
    assert cancel_session.card_state == "temporary_lost"
    t2 = cancel_session.token
    _refused(
        _call(svc, RpcMethod.PERSON_SUMMARY, PERSON, token=t2, terminal=OTHER_TERMINAL, clock=clock)
    )
    cancel = {**loss, "request_key": "cancel-0000001"}
    done = _call(svc, RpcMethod.LOSS_CANCEL, cancel, token=t2, terminal=OTHER_TERMINAL, clock=clock)
    assert done.ok and done.result is not None and done.result["card_state"] == "active"
    again = _call(
        svc, RpcMethod.LOSS_CANCEL, cancel, token=t2, terminal=OTHER_TERMINAL, clock=clock
    )
    assert again.ok and again.result is not None and again.result["repeated"] is True
    assert _open(svc, clock).card_state == "active"


def test_a_payment_without_a_valid_token_is_declined_for_good(
    svc_clock: tuple[RpcService, Clock], central_db: tuple[Storage, SeedConfig]
) -> None:
    svc, clock = svc_clock
    db = central_db[0]
    before = db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (TEST_HOLDER_ID,))
    pay = {
        "payment_key": "pay-forbidden-1",
        "id_number": TEST_HOLDER_ID,
        "purpose": "contribution",
        "reference": "202610",
        "amount_cents": 100,
    }
    _refused(_call(svc, RpcMethod.PAYMENT_SUBMIT, pay, clock=clock))
    # The same key later with a valid token: still declined (a late copy never charges).
    token = _open(svc, clock).token
    resp = _call(svc, RpcMethod.PAYMENT_SUBMIT, pay, token=token, clock=clock)
    assert resp.ok and resp.result is not None and resp.result["state"] == "declined"
    after = db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (TEST_HOLDER_ID,))
    assert before == after


def test_every_method_is_classified_public_or_with_a_credential_policy() -> None:
    """A new method is refused until someone decides what it needs (never open by default)."""
    classified = set(DEFAULT_REQUIREMENTS) | set(PUBLIC_METHODS) | {RpcMethod.SESSION_ELEVATE}
    assert classified == set(RpcMethod)
    assert not set(DEFAULT_REQUIREMENTS) & set(PUBLIC_METHODS)


def test_the_session_cannot_be_elevated_past_its_maximum_length(
    svc_clock: tuple[RpcService, Clock],
) -> None:
    svc, clock = svc_clock
    token = _open(svc, clock).token
    start = clock.now
    for _ in range(7):  # elevating renews, up to max_session_s (1800 s) from the open
        clock.now += 250
        resp = _elevate(svc, clock, token, pin_verified=True)
        assert resp.ok and resp.result is not None
        token = resp.result["token"]
        assert resp.result["expires_at"] == min(clock.now + 300, start + 1800)
    clock.now = start + 1800
    _refused(_call(svc, RpcMethod.PERSON_SUMMARY, PERSON, token=token, clock=clock))
