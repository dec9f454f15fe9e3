"""A minimal kiosk on paho for the central's tests: RPC with response topic + correlation data,
business events with receipts, telemetry."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract import (
    CENTRAL_STATUS_TOPIC,
    CONTRACT_VERSION,
    Channel,
    RpcMethod,
    new_msg_id,
    topic,
)
from tests.fixtures.broker import Broker
from tests.fixtures.central import TEST_CARD_NUMBER, TEST_HOLDER_ID
from tests.fixtures.soft_card import SoftCard, holder_soft_card

TERMINAL = "SSK-T-0001"


def _no_delay(_c: Any, _u: Any, sock: Any) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


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
        # As the real kiosk transport: no Nagle, or each round trip waits for a delayed ACK.
        self.client.on_socket_open = _no_delay
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.subscribe(
            [(topic(terminal, ch), 1) for ch in (Channel.RPC_RESPONSE, Channel.EVENT_RECEIPT)]
        )
        assert subscribed.wait(10), "kiosk client: no SUBACK"

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
        timeout: float = 10.0,
        v: int = CONTRACT_VERSION,
        token: str = "",
    ) -> dict[str, Any]:
        req = {
            **self.envelope(),
            "v": v,
            "method": method.value,
            "params": params,
            "deadline": time.time() + deadline_s,
        }
        if token:
            req["session_token"] = token
        if v < CONTRACT_VERSION:  # a v1 kiosk has no mono/clock_synced
            del req["mono"], req["clock_synced"]
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = topic(self.terminal, Channel.RPC_RESPONSE)
        props.CorrelationData = req["msg_id"].encode()
        self.client.publish(
            topic(self.terminal, Channel.RPC_REQUEST), json.dumps(req), qos=1, properties=props
        )
        with self.cond:
            assert self.cond.wait_for(lambda: req["msg_id"] in self.responses, timeout=timeout)
            assert self.correlations[req["msg_id"]] == req["msg_id"].encode()
            return self.responses[req["msg_id"]]

    def publish_rpc(self, req: dict[str, Any]) -> None:
        """Publish a hand-made request on this terminal's request topic (attacks)."""
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = topic(self.terminal, Channel.RPC_RESPONSE)
        props.CorrelationData = str(req["msg_id"]).encode()
        self.client.publish(
            topic(self.terminal, Channel.RPC_REQUEST), json.dumps(req), qos=1, properties=props
        )

    def wait_response(self, msg_id: str, timeout: float = 10.0) -> dict[str, Any]:
        with self.cond:
            assert self.cond.wait_for(lambda: msg_id in self.responses, timeout=timeout)
            return self.responses[msg_id]

    def open_session(
        self, card: SoftCard | None = None, *, pin_verified: bool = True, timeout: float = 10.0
    ) -> str:
        """The trust protocol (docs/central-trust.md): challenge, the card's answer, the token."""
        card = card or holder_soft_card()
        ch = self.call(RpcMethod.SESSION_CHALLENGE, {}, timeout=timeout)
        assert ch["ok"], ch["error"]
        challenge = ch["result"]
        opened = self.call(
            RpcMethod.SESSION_OPEN,
            {
                "challenge_id": challenge["challenge_id"],
                "card_id_hex": card.card_id.hex(),
                "card_number": card.card_number,
                "answer_hex": card.answer(bytes.fromhex(challenge["challenge_hex"])).hex(),
                "pin_verified": pin_verified,
            },
            timeout=timeout,
        )
        assert opened["ok"], opened["error"]
        return str(opened["result"]["token"])

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def publish(self, channel: Channel, body: dict[str, Any] | bytes, **kw: Any) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body)
        self.client.publish(topic(self.terminal, channel), payload, qos=1, **kw).wait_for_publish(5)

    def event(self, kind: str = "audit", data: dict[str, Any] | None = None) -> str:
        body = {**self.envelope(), "kind": kind, "data": data or {"n": self.seq}}
        self.publish(Channel.EVENTS, body)
        return str(body["msg_id"])

    def wait_receipts(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.receipts) >= count, timeout=timeout), (
                f"{len(self.receipts)} receipts of {count}"
            )
            return list(self.receipts)


def wait_central_online(broker: Broker, timeout: float = 20.0) -> dict[str, Any]:
    """Block until the central's retained presence says `online` (its workers subscribed before
    publishing it, and the broker handles one client's packets in order)."""
    seen: list[dict[str, Any]] = []
    got = threading.Event()

    def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        if body.get("state") == "online":
            seen.append(body)
            got.set()

    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        client.subscribe(CENTRAL_STATUS_TOPIC, qos=1)
        assert got.wait(timeout), "the central never said online"
        return seen[-1]
    finally:
        client.loop_stop()
        client.disconnect()


def assert_refused(answer: dict[str, Any], code: str = "forbidden") -> None:
    """The central refused with `code` and its answer carries nothing of the test holder."""
    assert not answer["ok"] and answer["result"] is None, answer
    assert answer["error"]["code"] == code, answer["error"]
    text = json.dumps(answer, ensure_ascii=False)
    for secret in (TEST_HOLDER_ID, "测试员", TEST_CARD_NUMBER):
        assert secret not in text
