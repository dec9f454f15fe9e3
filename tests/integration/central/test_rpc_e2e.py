"""RPC, events and telemetry through a real mosquitto into a running central (2 workers)."""

from __future__ import annotations

from kiosk.contract import CONTRACT_VERSION, RpcMethod, new_msg_id
from tests.fixtures.broker import Broker
from tests.fixtures.central import TEST_HOLDER_ID, CentralHandle
from tests.integration.central.kiosk_client import Kiosk


def test_rpc_round_trip_through_the_broker(central: CentralHandle, broker: Broker) -> None:
    kiosk = Kiosk(broker)
    try:
        token = kiosk.open_session()
        r = kiosk.call(RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, token=token)
        assert r["ok"], r
        assert r["result"]["name"] == "测试员"
        bill_id, amount = central.unpaid_bill()
        key = new_msg_id()
        params = {
            "payment_key": key,
            "id_number": TEST_HOLDER_ID,
            "purpose": "utility_bill",
            "reference": bill_id,
            "amount_cents": amount,
        }
        before = central.wallet_cents()
        first = kiosk.call(RpcMethod.PAYMENT_SUBMIT, params, token=token)
        again = kiosk.call(
            RpcMethod.PAYMENT_SUBMIT, params, token=token
        )  # a retry with the same key
        assert first["result"]["state"] == "accepted", first["result"]["reason"]
        assert again["result"] == first["result"]
        assert central.wallet_cents() == before - amount
        # v1 (N-1) kiosks are still served
        old = kiosk.call(RpcMethod.PAYMENT_STATUS, {"payment_key": key}, v=CONTRACT_VERSION - 1)
        assert old["ok"] and old["result"]["state"] == "accepted"
    finally:
        kiosk.close()
