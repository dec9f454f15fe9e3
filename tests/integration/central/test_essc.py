"""e-SSC QR login at the central, on both backends: a code opens a session that stands in for
card + PIN; expired, replayed, forged, another terminal's and revoked codes are refused, and
nothing personal leaks in any refusal or in the code itself."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from central.config import SeedConfig
from central.essc import PREFIX, EsscAuthority
from central.handlers import RpcService
from central.storage import Storage
from kiosk.contract import Credential, RpcMethod, SessionTokenResult, decode
from tests.fixtures.central import TEST_CARD_NUMBER, TEST_HOLDER_ID
from tests.integration.central.test_trust import (
    OTHER_TERMINAL,
    PERSON,
    TERMINAL,
    Clock,
    _call,
    _open,
    _refused,
    _service,
)


@pytest.fixture
def rig(central_db: tuple[Storage, SeedConfig]) -> tuple[RpcService, Clock, EsscAuthority, Storage]:
    clock = Clock()
    svc = _service(central_db[0], clock)
    return svc, clock, EsscAuthority.load(None, clock), central_db[0]


Rig = tuple[RpcService, Clock, EsscAuthority, Storage]


def _login(svc: RpcService, clock: Clock, code: str, terminal: str = TERMINAL) -> Any:
    return _call(svc, RpcMethod.ESSC_LOGIN, {"token": code}, terminal=terminal, clock=clock)


def test_a_code_opens_a_session_for_queries_but_not_for_card_only_services(rig: Rig) -> None:
    svc, clock, authority, db = rig
    code = authority.issue(db, TEST_HOLDER_ID, ttl_s=60)
    # The code names nobody: a photo of the phone's screen reveals no ID number.
    body = json.loads(base64.urlsafe_b64decode(code.split(".")[1] + "=="))
    assert TEST_HOLDER_ID not in code and TEST_HOLDER_ID not in json.dumps(body)
    resp = _login(svc, clock, code)
    assert resp.ok and resp.result is not None, resp.error
    session = decode(SessionTokenResult, resp.result)
    assert session.credentials == [Credential.ESSC] and session.id_number == TEST_HOLDER_ID
    summary = _call(svc, RpcMethod.PERSON_SUMMARY, PERSON, token=session.token, clock=clock)
    assert summary.ok, summary.error
    yearly = _call(
        svc,
        RpcMethod.CONTRIBUTIONS_YEARLY,
        {**PERSON, "insurance": "pension", "from_year": 2020, "to_year": 2025},
        token=session.token,
        clock=clock,
    )
    assert yearly.ok, yearly.error
    # What only the card can do is refused, and says so without naming anybody.
    photo = _call(svc, RpcMethod.PHOTO_REFERENCE, PERSON, token=session.token, clock=clock)
    assert "card" in _refused(photo)
    other = _call(
        svc,
        RpcMethod.PERSON_SUMMARY,
        {"id_number": "330302198503120015"},
        token=session.token,
        clock=clock,
    )
    _refused(other)


def test_expired_replayed_forged_and_foreign_codes_are_refused(rig: Rig) -> None:
    svc, clock, authority, db = rig
    code = authority.issue(db, TEST_HOLDER_ID, ttl_s=30)
    clock.now += 31
    assert "expired" in _refused(_login(svc, clock, code))
    fresh = authority.issue(db, TEST_HOLDER_ID, ttl_s=60)
    assert _login(svc, clock, fresh).ok
    assert "already used" in _refused(_login(svc, clock, fresh))
    assert "already used" in _refused(_login(svc, clock, fresh, terminal=OTHER_TERMINAL))
    # Forged: claims changed under the old signature, a signature of another key, garbage.
    head, body, sig = authority.issue(db, TEST_HOLDER_ID).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["exp"] += 3600
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _refused(_login(svc, clock, f"{head}.{tampered}.{sig}"))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    rogue = EsscAuthority(Ed25519PrivateKey.generate(), clock)
    _refused(_login(svc, clock, rogue.issue(db, TEST_HOLDER_ID)))
    _refused(_login(svc, clock, PREFIX + "not.base64!"))
    _refused(_login(svc, clock, "https://example.invalid/a-shop-qr-code"))
    # Bound to another terminal.
    bound = authority.issue(db, TEST_HOLDER_ID, terminal_id=OTHER_TERMINAL)
    assert "another terminal" in _refused(_login(svc, clock, bound))
    assert _login(svc, clock, bound, terminal=OTHER_TERMINAL).ok


def test_a_lost_card_revokes_the_essc(rig: Rig) -> None:
    svc, clock, authority, db = rig
    session = _open(svc, clock)
    loss = {
        "request_key": "loss-00000009",
        "id_number": TEST_HOLDER_ID,
        "card_number": TEST_CARD_NUMBER,
    }
    assert _call(svc, RpcMethod.LOSS_REPORT, loss, token=session.token, clock=clock).ok
    code = authority.issue(db, TEST_HOLDER_ID)
    _refused(_login(svc, clock, code), "card_lost")


def test_issuing_needs_a_real_insured_person(rig: Rig) -> None:
    from central.errors import CentralError

    _, _, authority, db = rig
    with pytest.raises(CentralError):
        authority.issue(db, "330302198503120015")  # valid number, nobody insured
    with pytest.raises(CentralError):
        authority.issue(db, TEST_HOLDER_ID, ttl_s=3600)
