"""`fingerprint.enroll` attacked over MQTT: hostile enrolment requests sent raw on a terminal's
request topic through a real mosquitto into the real central (two workers). Each is refused
with its code, names no person in the answer, and leaves the holder's reference template (the
bytes in `persons.finger_template`) and the affairs ledger exactly as they were; the genuine
enrolment that follows shows the same path does replace it."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from drivers.fingerprint.emulator.fingers import finger_template
from kiosk.contract import FINGERPRINT_TEMPLATE_MAX_BYTES, Credential, RpcMethod
from tests.fixtures.broker import Broker
from tests.fixtures.central import TEST_CARD_NUMBER, TEST_HOLDER_ID, CentralHandle
from tests.integration.central.kiosk_client import Kiosk, assert_refused

TERMINAL, OTHER_TERMINAL = "SSK-T-0001", "SSK-T-0002"
ENROL = frozenset({Credential.CARD, Credential.PIN, Credential.FACE, Credential.FINGERPRINT})
STORED = finger_template("f03")  # the holder's reference before the attacks
FRESH = finger_template("f05")  # what the genuine enrolment brings


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _enrol(key: str, template_b64: str, **over: Any) -> dict[str, Any]:
    return {
        "enrol_key": key,
        "id_number": TEST_HOLDER_ID,
        "card_number": TEST_CARD_NUMBER,
        "finger": 1,
        "template_b64": template_b64,
        **over,
    }


def _reference(central: CentralHandle) -> bytes:
    rows = central.query(
        "SELECT finger_template FROM persons WHERE id_number = ?", (TEST_HOLDER_ID,)
    )
    return bytes(rows[0][0])


def _enrolments(central: CentralHandle) -> list[tuple[Any, ...]]:
    return central.query("SELECT request_key, data FROM affairs WHERE kind = 'fingerprint_enroll'")



def test_hostile_enrolments_over_mqtt_are_refused_and_change_no_reference(
    central: CentralHandle, broker: Broker
) -> None:
    with central.db() as db, db.transaction() as tx:
        tx.execute(
            "UPDATE persons SET finger_template = ? WHERE id_number = ?", (STORED, TEST_HOLDER_ID)
        )
    assert STORED != FRESH
    trust = central.service.trust
    full = trust.issue_for_tests(TERMINAL, TEST_HOLDER_ID, TEST_CARD_NUMBER, ENROL)
    other_id, other_card = central.query(
        "SELECT id_number, card_number FROM cards WHERE id_number <> ? AND state = 'active'"
        " ORDER BY id_number LIMIT 1",
        (TEST_HOLDER_ID,),
    )[0]
    a, b = Kiosk(broker, TERMINAL), Kiosk(broker, OTHER_TERMINAL)
    try:
        card_and_pin = a.open_session()  # a genuine card session: no face, no finger
        fresh = _b64(FRESH)
        hostile: list[tuple[str, Kiosk, dict[str, Any], str, str]] = [
            ("no session token", a, _enrol("hostile-01", fresh), "", "forbidden"),
            (
                "card + PIN only",
                a,
                _enrol("hostile-02", fresh),
                card_and_pin,
                "forbidden",
            ),
            (
                "card + PIN + face, no finger",
                a,
                _enrol("hostile-03", fresh),
                trust.issue_for_tests(
                    TERMINAL, TEST_HOLDER_ID, TEST_CARD_NUMBER, ENROL - {Credential.FINGERPRINT}
                ),
                "forbidden",
            ),
            (
                "card + PIN + finger, no face",
                a,
                _enrol("hostile-03b", fresh),
                trust.issue_for_tests(
                    TERMINAL, TEST_HOLDER_ID, TEST_CARD_NUMBER, ENROL - {Credential.FACE}
                ),
                "forbidden",
            ),
            (
                "another person's full token",
                a,
                _enrol("hostile-04", fresh),
                trust.issue_for_tests(TERMINAL, str(other_id), str(other_card), ENROL),
                "forbidden",
            ),
            (
                "the holder's token, another person's card in the request",
                a,
                _enrol("hostile-05", fresh, card_number=str(other_card)),
                full,
                "forbidden",
            ),
            (
                "this terminal's token sent by another",
                b,
                _enrol("hostile-06", fresh),
                full,
                "forbidden",
            ),
            (
                "an expired token",
                a,
                _enrol("hostile-07", fresh),
                trust.issue_for_tests(TERMINAL, TEST_HOLDER_ID, TEST_CARD_NUMBER, ENROL, ttl_s=-1),
                "forbidden",
            ),
            (
                "one byte over the largest template",
                a,
                _enrol("hostile-08", _b64(FRESH * 4 + b"\x00")),
                full,
                "invalid_params",
            ),
            (
                "far over the contract's length",
                a,
                _enrol("hostile-09", "A" * 4000),
                full,
                "invalid_params",
            ),
            ("not base64", a, _enrol("hostile-10", "@@not*base64@@"), full, "invalid_params"),
            (
                "base64 with junk inside",
                a,
                _enrol("hostile-11", fresh[:40] + "!" + fresh[40:]),
                full,
                "invalid_params",
            ),
            (
                "too short to be a template",
                a,
                _enrol("hostile-12", _b64(b"\x01" * 8)),
                full,
                "invalid_params",
            ),
        ]
        assert len(FRESH * 4 + b"\x00") == FINGERPRINT_TEMPLATE_MAX_BYTES + 1
        for what, kiosk, params, token, code in hostile:
            answer = kiosk.call(RpcMethod.FINGERPRINT_ENROLL, params, token=token)
            assert_refused(answer, code)
            assert _reference(central) == STORED, f"{what}: the reference changed"
            assert _enrolments(central) == [], f"{what}: an enrolment was recorded"

        # The genuine request on the same path replaces the reference (the control).
        done = a.call(RpcMethod.FINGERPRINT_ENROLL, _enrol("genuine-01", fresh), token=full)
        assert done["ok"], done["error"]
        digest = hashlib.sha256(FRESH).hexdigest()
        assert done["result"]["sha256"] == digest and not done["result"]["repeated"]
        assert _reference(central) == FRESH
        # Its key replayed with other bytes answers the first enrolment and stores nothing new;
        # replayed from another terminal it is refused without saying whose it is.
        replay = a.call(
            RpcMethod.FINGERPRINT_ENROLL, _enrol("genuine-01", _b64(STORED)), token=full
        )
        assert replay["ok"] and replay["result"]["repeated"]
        assert replay["result"]["sha256"] == digest
        assert_refused(
            b.call(
                RpcMethod.FINGERPRINT_ENROLL,
                _enrol("genuine-01", _b64(STORED)),
                token=trust.issue_for_tests(
                    OTHER_TERMINAL, TEST_HOLDER_ID, TEST_CARD_NUMBER, ENROL
                ),
            ),
            "forbidden",
        )
        assert _reference(central) == FRESH
        rows = _enrolments(central)
        assert [r[0] for r in rows] == ["genuine-01"]
        assert digest in str(rows[0][1]) and FRESH.hex() not in str(rows[0][1])
    finally:
        a.close()
        b.close()
