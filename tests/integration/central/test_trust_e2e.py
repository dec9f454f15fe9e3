"""The trust protocol through a real mosquitto into the real central (2 workers on a shared
subscription): a challenge asked on one worker is answered on another, and every attack a
terminal can make over MQTT is refused without a personal value in the answer."""

from __future__ import annotations

import json

from kiosk.contract import CARD_CREDENTIALS, RpcMethod
from tests.fixtures.broker import Broker
from tests.fixtures.central import TEST_CARD_NUMBER, TEST_HOLDER_ID, CentralHandle
from tests.fixtures.soft_card import holder_soft_card
from tests.integration.central.kiosk_client import Kiosk, assert_refused

PERSON = {"id_number": TEST_HOLDER_ID}



def test_attacks_over_mqtt_are_refused_and_leak_nothing(
    central: CentralHandle, broker: Broker
) -> None:
    a, b = Kiosk(broker, "SSK-T-0001"), Kiosk(broker, "SSK-T-0002")
    try:
        # Many sessions in a row: challenge and open land on either worker (the database is
        # the shared memory), and every genuine exchange opens.
        tokens = [a.open_session() for _ in range(6)]
        token = tokens[-1]
        served = a.call(RpcMethod.PERSON_SUMMARY, PERSON, token=token)
        assert served["ok"] and served["result"]["name"] == "测试员"
        # No token; a token of terminal A sent by terminal B.
        assert_refused(a.call(RpcMethod.PERSON_SUMMARY, PERSON))
        assert_refused(b.call(RpcMethod.PERSON_SUMMARY, PERSON, token=token))
        # B claims to be A in the payload, on its own topic: the topic's terminal counts.
        req = {
            **b.envelope(),
            "terminal_id": "SSK-T-0001",
            "method": RpcMethod.PERSON_SUMMARY.value,
            "params": PERSON,
            "deadline": b.envelope()["wall"] + 10,
            "session_token": token,
        }
        b.publish_rpc(req)
        assert_refused(b.wait_response(req["msg_id"]))
        # An expired token (signed by this central, expired a second ago).
        expired = central.service.trust.issue_for_tests(
            "SSK-T-0001", TEST_HOLDER_ID, TEST_CARD_NUMBER, CARD_CREDENTIALS, ttl_s=-1
        )
        assert_refused(a.call(RpcMethod.PERSON_SUMMARY, PERSON, token=expired))
        # A token of another person: a person of the seed whose card is someone else's.
        other = central.query(
            "SELECT id_number FROM persons WHERE id_number <> ? LIMIT 1", (TEST_HOLDER_ID,)
        )[0][0]
        refused = a.call(RpcMethod.ACCOUNTS, {"id_number": other}, token=token)
        assert_refused(refused)
        assert other not in json.dumps(refused)
        # Card + PIN does not reach a service that needs the face check.
        qualify = {"request_key": "e2e-qualify-1", "id_number": TEST_HOLDER_ID, "year": 2026}
        assert_refused(a.call(RpcMethod.PENSION_QUALIFY, qualify, token=token))
        # A forged answer, then the genuine answer replayed.
        card = holder_soft_card()
        ch = a.call(RpcMethod.SESSION_CHALLENGE, {})["result"]
        opening = {
            "challenge_id": ch["challenge_id"],
            "card_id_hex": card.card_id.hex(),
            "card_number": card.card_number,
            "answer_hex": "11" * 16,
            "pin_verified": True,
        }
        assert_refused(a.call(RpcMethod.SESSION_OPEN, opening))
        ch = a.call(RpcMethod.SESSION_CHALLENGE, {})["result"]
        opening["challenge_id"] = ch["challenge_id"]
        opening["answer_hex"] = card.answer(bytes.fromhex(ch["challenge_hex"])).hex()
        assert a.call(RpcMethod.SESSION_OPEN, opening)["ok"]
        assert_refused(a.call(RpcMethod.SESSION_OPEN, opening))  # replayed on the same terminal
        assert_refused(b.call(RpcMethod.SESSION_OPEN, opening))  # ... and on another one
        assert central.service.stats().rpc >= 20
    finally:
        a.close()
        b.close()
