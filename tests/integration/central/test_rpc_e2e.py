"""RPC, events and telemetry through a real mosquitto into a running central (2 workers)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract import (
    CONTRACT_VERSION,
    Channel,
    RpcMethod,
    new_msg_id,
    topic,
)
from tests.fixtures.broker import Broker
from tests.fixtures.central import TEST_HOLDER_ID, CentralHandle

TERMINAL = "SSK-T-0001"


class Kiosk:
    """A minimal kiosk on paho: RPC calls with response topic + correlation data, events."""

    def __init__(self, broker: Broker, terminal: str = TERMINAL) -> None:
        self.terminal = terminal
        self.responses: dict[str, dict[str, Any]] = {}
        self.correlations: dict[str, bytes] = {}
        self.receipts: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.seq = 0
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"k-{terminal}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        for ch in (Channel.RPC_RESPONSE, Channel.EVENT_RECEIPT):
            self.client.subscribe(topic(terminal, ch), qos=1)
        time.sleep(0.2)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        with self.cond:
            if msg.topic.endswith("rpc/response"):
                self.responses[body["request_id"]] = body
                self.correlations[body["request_id"]] = getattr(
                    msg.properties, "CorrelationData", b""
                )
            else:
                self.receipts.append(body)
            self.cond.notify_all()

    def envelope(self) -> dict[str, Any]:
        self.seq += 1
        return {
            "v": CONTRACT_VERSION,
            "msg_id": new_msg_id(),
            "terminal_id": self.terminal,
            "boot_id": "boot-1",
            "seq": self.seq,
            "mono": 1.0,
            "wall": time.time(),
            "clock_synced": True,
        }

    def call(
        self,
        method: RpcMethod,
        params: dict[str, Any],
        *,
        deadline_s: float = 10.0,
        v: int = CONTRACT_VERSION,
    ) -> dict[str, Any]:
        req = {
            **self.envelope(),
            "v": v,
            "method": method.value,
            "params": params,
            "deadline": time.time() + deadline_s,
        }
        if v < CONTRACT_VERSION:  # a v1 kiosk has no mono/clock_synced
            del req["mono"], req["clock_synced"]
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = topic(self.terminal, Channel.RPC_RESPONSE)
        props.CorrelationData = req["msg_id"].encode()
        self.client.publish(
            topic(self.terminal, Channel.RPC_REQUEST), json.dumps(req), qos=1, properties=props
        )
        with self.cond:
            assert self.cond.wait_for(lambda: req["msg_id"] in self.responses, timeout=10)
            assert self.correlations[req["msg_id"]] == req["msg_id"].encode()
            return self.responses[req["msg_id"]]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_rpc_round_trip_through_the_broker(central: CentralHandle, broker: Broker) -> None:
    kiosk = Kiosk(broker)
    try:
        r = kiosk.call(RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID})
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
        first = kiosk.call(RpcMethod.PAYMENT_SUBMIT, params)
        again = kiosk.call(RpcMethod.PAYMENT_SUBMIT, params)  # a retry with the same key
        assert first["result"]["state"] == "accepted", first["result"]["reason"]
        assert again["result"] == first["result"]
        assert central.wallet_cents() == before - amount
        # v1 (N-1) kiosks are still served
        old = kiosk.call(RpcMethod.PAYMENT_STATUS, {"payment_key": key}, v=CONTRACT_VERSION - 1)
        assert old["ok"] and old["result"]["state"] == "accepted"
    finally:
        kiosk.close()
