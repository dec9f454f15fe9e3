"""One central worker: an MQTT 5 consumer in the shared subscription group, with its own database
connection, answering RPCs, receipting business events and ingesting telemetry.

Several workers (threads here, or processes, or hosts) share the load through
`$share/<group>/ssk/v1/+/<channel>`; each keeps a persistent session (Clean Start false, a Session
Expiry) so that requests queued while it was away are delivered when it returns. Messages are
acknowledged (manual PUBACK) only after their effect is committed and the answer published: a
crash in between means a redelivery, which the idempotent ledger answers from what it stored.
Paho runs the callbacks on its network thread; everything that touches the database holds
`_db_lock`, shared with the telemetry flush timer.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from central.certificates import CertificateSigner
from central.config import CentralConfig
from central.errors import StorageDataError, StorageError
from central.handlers import RpcService
from central.ingest import TelemetryIngest
from central.ledger import Ledger
from central.storage import Storage, open_storage
from central.trust import SessionTrust
from kiosk.contract import (
    CENTRAL_STATUS_TOPIC,
    CONTRACT_VERSION,
    BusinessEvent,
    Channel,
    ContractError,
    EventReceipt,
    PresenceState,
    ReceiptOutcome,
    RpcError,
    RpcRequest,
    RpcResponse,
    StatusMessage,
    Telemetry,
    decode,
    encode,
    load_json,
    new_msg_id,
    parse_topic,
    shared_filter,
    topic,
)

__all__ = ["CONSUMED", "CentralWorker", "WorkerStats", "new_boot_id"]

CONSUMED = (Channel.RPC_REQUEST, Channel.EVENTS, Channel.TELEMETRY)
"""Channels the central consumes through the shared group (presence and acks: the monitor)."""

SOFTWARE_VERSION = "central-0.1.0"


@dataclass
class WorkerStats:
    """Counters of one worker (read from any thread; plain ints under the GIL)."""

    rpc: int = 0
    events_accepted: int = 0
    events_duplicate: int = 0
    events_rejected: int = 0
    telemetry: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # inbound refused, by reason

    def add(self, other: WorkerStats) -> None:
        self.rpc += other.rpc
        self.events_accepted += other.events_accepted
        self.events_duplicate += other.events_duplicate
        self.events_rejected += other.events_rejected
        self.telemetry += other.telemetry
        self.rejected.update(other.rejected)


def _msg_id_of(payload: bytes) -> str | None:
    """The msg_id of a payload that failed validation, to answer it if at all possible."""
    try:
        data = load_json(payload)  # bounded like decode: never RecursionError or ValueError
    except ContractError:
        return None
    mid = data.get("msg_id") if isinstance(data, dict) else None
    if not isinstance(mid, str) or not mid.isascii() or not mid.isprintable():
        return None  # a lone surrogate or a control character is no id to echo back
    return mid if 8 <= len(mid) <= 64 else None


class CentralWorker:
    """One consumer of the shared group. `start()` connects in the background; `wait_ready()`
    blocks until the subscriptions are granted; `stop()` flushes and disconnects (the broker
    keeps the session, so nothing addressed to the group is lost meanwhile).

    `presence=True` makes this worker publish the central's retained birth on
    `CENTRAL_STATUS_TOPIC` (with a last will `offline` and `stopped` on a clean stop).
    `on_telemetry(report, received_at)` is called on the MQTT thread for every valid report.
    """

    def __init__(
        self,
        index: int,
        config: CentralConfig,
        *,
        boot_id: str,
        presence: bool = False,
        clock: Callable[[], float] = time.time,
        on_telemetry: Callable[[Telemetry, float], None] | None = None,
        trust: SessionTrust | None = None,
        signer: CertificateSigner | None = None,
    ) -> None:
        self.index = index
        self._trust = trust or SessionTrust(config.trust, clock)
        self._signer = signer
        self._cfg = config
        self._boot_id = boot_id
        self._presence = presence
        self._clock = clock
        self.client_id = f"{config.broker.client_id_prefix}-w{index}"
        self.log = logging.getLogger(f"central.worker.{index}")
        self.stats = WorkerStats()
        self.ingest = TelemetryIngest(on_telemetry)
        self._db_lock = threading.Lock()
        self._storage: Storage | None = None
        self._rpc: RpcService | None = None
        self._ledger: Ledger | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._flusher: threading.Thread | None = None
        self._seq = 0
        self._started = clock()
        self._sub_mid: int | None = None
        # Fault tests only (never set in production): called with each request and its answer
        # after the request was applied and before the answer is published, e.g. to lose the
        # broker exactly there (tests/fixtures/journeys.py).
        self.before_answer: Callable[[RpcRequest, RpcResponse], None] | None = None
        self._client = self._make_client()

    # ------------------------------------------------------------------ lifecycle

    def _make_client(self) -> mqtt.Client:
        b = self._cfg.broker
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,  # PUBACK only once the effect is committed (see module docstring)
        )
        # The configured seconds as they are (paho computes the delays in float seconds): a
        # short first delay puts the group back on the broker, and the central's birth out,
        # well before the kiosks' receipt timeout; rounding made 0.5 s a whole second.
        client.reconnect_delay_set(
            min_delay=b.reconnect_min_s,  # type: ignore[arg-type]
            max_delay=max(b.reconnect_min_s, b.reconnect_max_s),  # type: ignore[arg-type]
        )
        client.max_inflight_messages_set(b.receive_maximum)
        if b.username:
            client.username_pw_set(b.username)
        if b.tls_ca_file:
            client.tls_set(ca_certs=b.tls_ca_file, certfile=b.tls_cert_file, keyfile=b.tls_key_file)
        if self._presence:
            will = self._status(PresenceState.OFFLINE)
            client.will_set(CENTRAL_STATUS_TOPIC, encode(will), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_socket_open = self._on_socket_open
        return client

    @staticmethod
    def _on_socket_open(client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # paho leaves Nagle on: an RPC reply would wait for the delayed ACK of the previous
        # packet (~40 ms per hop on Linux), far beyond the 20 ms round-trip target.
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def start(self) -> None:
        """Open the database, connect (in the background; paho retries) and start the flusher."""
        self._storage = open_storage(self._cfg.storage)
        self._ledger = Ledger(self._storage, self._cfg.ledger, self._clock)
        self._rpc = RpcService(
            self._storage, self._ledger, self._clock, trust=self._trust, signer=self._signer
        )
        b = self._cfg.broker
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = b.session_expiry_s
        props.ReceiveMaximum = b.receive_maximum
        # Clean Start false on EVERY connect: requests queued for our session while this worker
        # was down (restart, upgrade) must still be delivered to it.
        self._client.connect_async(
            b.host, b.port, keepalive=b.keepalive_s, clean_start=False, properties=props
        )
        self._client.loop_start()
        self._flusher = threading.Thread(
            target=self._flush_loop, name=f"central-flush-{self.index}", daemon=True
        )
        self._flusher.start()

    def wait_ready(self, timeout: float) -> bool:
        """True once connected and subscribed (within `timeout` seconds)."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Leave the shared group, publish `stopped` (presence worker), disconnect (the session
        is kept), flush telemetry, close the database.

        Leaving the group first matters: mosquitto gives an offline member of a shared group
        with a persistent session its share of new messages and queues them until it returns,
        so a worker stopped for good would hold requests hostage. A worker that crashes keeps
        its subscription; its share waits for its restart (no loss: persistent session)."""
        self._stopping.set()
        if self._client.is_connected():
            left = threading.Event()
            self._client.on_unsubscribe = lambda *_a: left.set()
            group = self._cfg.broker.share_group
            self._client.unsubscribe([shared_filter(ch, group) for ch in CONSUMED])
            if not left.wait(2.0):
                self.log.warning("no UNSUBACK: the broker may keep routing our share to us")
        if self._presence and self._client.is_connected():
            info = self._client.publish(
                CENTRAL_STATUS_TOPIC,
                encode(self._status(PresenceState.STOPPED)),
                qos=1,
                retain=True,
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2.0)
        self._client.disconnect()
        self._client.loop_stop()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
        with self._db_lock:
            if self._storage is not None:
                try:
                    self.ingest.flush(self._storage)
                except StorageError as e:
                    self.log.error("last telemetry flush failed: %s", e)
                self._storage.close()
                self._storage = None

    # ------------------------------------------------------------------ paho callbacks

    def _on_connect(
        self, client: mqtt.Client, _u: Any, flags: Any, rc: ReasonCode, _p: Any
    ) -> None:
        if rc.is_failure:
            self.log.error("broker refused the connection: %s", rc)
            return  # paho retries; nothing is subscribed on a refused connection
        self.log.info(
            "connected to %s:%s (session present: %s)",
            self._cfg.broker.host,
            self._cfg.broker.port,
            flags.session_present,
        )
        group = self._cfg.broker.share_group
        # Re-subscribing an existing session's subscriptions is harmless and covers a broker
        # that lost the session (restart without persistence).
        _result, mid = client.subscribe([(shared_filter(ch, group), 1) for ch in CONSUMED])
        self._sub_mid = mid
        if self._presence:
            client.publish(
                CENTRAL_STATUS_TOPIC, encode(self._status(PresenceState.ONLINE)), qos=1, retain=True
            )

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, codes: list[ReasonCode], _p: Any
    ) -> None:
        if any(c.is_failure for c in codes):
            self.log.error("subscription refused: %s", [str(c) for c in codes])
            return
        if mid == self._sub_mid:
            self._ready.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: ReasonCode, _p: Any) -> None:
        self._ready.clear()
        if not self._stopping.is_set():
            self.log.warning("disconnected from the broker (%s); reconnecting", rc)

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._dispatch(client, msg)
        except Exception:  # one bad message must never stop the consumer
            self.log.exception("message on %s failed", msg.topic)
        finally:
            if msg.qos > 0:
                client.ack(msg.mid, msg.qos)

    # ------------------------------------------------------------------ routing

    def _reject(self, reason: str, terminal: str, detail: str = "") -> None:
        self.stats.rejected[reason] += 1
        self.log.warning("rejected inbound (%s) from %s: %s", reason, terminal, detail[:200])

    def _dispatch(self, client: mqtt.Client, msg: mqtt.MQTTMessage) -> None:
        parsed = parse_topic(msg.topic)
        if parsed is None:
            self._reject("unknown_topic", "?", msg.topic[:100])
            return
        terminal, channel = parsed
        payload = bytes(msg.payload)
        if len(payload) > self._cfg.workers.max_payload_bytes:
            self._reject("too_large", terminal, f"{len(payload)} bytes on {channel.value}")
            return
        if channel is Channel.RPC_REQUEST:
            self._on_rpc(client, terminal, msg, payload)
        elif channel is Channel.EVENTS:
            self._on_event(client, terminal, payload)
        elif channel is Channel.TELEMETRY:
            self._on_telemetry(terminal, payload)
        else:
            self._reject("unexpected_channel", terminal, channel.value)

    def _on_rpc(
        self, client: mqtt.Client, terminal: str, msg: mqtt.MQTTMessage, payload: bytes
    ) -> None:
        props = msg.properties
        correlation = getattr(props, "CorrelationData", None) if props else None
        asked_topic = getattr(props, "ResponseTopic", None) if props else None
        reply_topic = topic(terminal, Channel.RPC_RESPONSE)
        if asked_topic not in (None, reply_topic):
            # Never answer to a topic the sender chose freely: that would let one kiosk make the
            # central publish into another kiosk's topics.
            self._reject("response_topic", terminal, str(asked_topic)[:100])
        try:
            request = decode(RpcRequest, payload)
        except ContractError as e:
            self._reject(e.reason, terminal, e.detail)
            rid = _msg_id_of(payload)
            if rid is not None:
                code = "unsupported_version" if e.reason == "version" else "invalid_params"
                self._publish_response(
                    client,
                    reply_topic,
                    correlation,
                    rid,
                    RpcResponse(
                        v=CONTRACT_VERSION,
                        request_id=rid,
                        ok=False,
                        result=None,
                        error=RpcError(code=code, message=str(e)[:500], permanent=True),
                        server_wall=self._clock(),
                    ),
                )
            return
        with self._db_lock:
            assert self._rpc is not None
            response = self._rpc.handle(terminal, request)
        self.stats.rpc += 1
        hook = self.before_answer
        if hook is not None:
            hook(request, response)
        self._publish_response(client, reply_topic, correlation, request.msg_id, response)

    def _publish_response(
        self,
        client: mqtt.Client,
        reply_topic: str,
        correlation: bytes | None,
        rid: str,
        response: RpcResponse,
    ) -> None:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.CorrelationData = correlation or rid.encode("ascii", "replace")
        client.publish(reply_topic, encode(response), qos=1, properties=props)

    def _on_event(self, client: mqtt.Client, terminal: str, payload: bytes) -> None:
        receipt_topic = topic(terminal, Channel.EVENT_RECEIPT)
        try:
            event = decode(BusinessEvent, payload)
        except ContractError as e:
            self._reject(e.reason, terminal, e.detail)
            mid = _msg_id_of(payload)
            if mid is not None:  # tell the kiosk, so the row goes to dead instead of retrying
                self.stats.events_rejected += 1
                receipt = EventReceipt(
                    v=CONTRACT_VERSION,
                    msg_id=mid,
                    outcome=ReceiptOutcome.REJECTED,
                    permanent=True,
                    reason=str(e)[:200],
                )
                client.publish(receipt_topic, encode(receipt), qos=1)
            return
        if event.terminal_id != terminal:
            self._reject("terminal_mismatch", terminal, event.terminal_id)
            receipt = EventReceipt(
                v=CONTRACT_VERSION,
                msg_id=event.msg_id,
                outcome=ReceiptOutcome.REJECTED,
                permanent=True,
                reason="terminal_id differs from the topic's",
            )
        else:
            try:
                with self._db_lock:
                    assert self._ledger is not None
                    assert self._rpc is not None
                    # Queued applications take effect first, once per msg_id; the receipt
                    # after it (a crash in between re-applies nothing).
                    self._rpc.services.apply_outbox_event(
                        terminal, event.kind.value, event.msg_id, event.data
                    )
                    receipt = self._ledger.record_event(event)
            except StorageDataError as e:  # the same row fails every time: reject for good
                self.log.error(
                    "event %s from %s: refused by storage: %s", event.msg_id, terminal, e
                )
                receipt = EventReceipt(
                    v=CONTRACT_VERSION,
                    msg_id=event.msg_id,
                    outcome=ReceiptOutcome.REJECTED,
                    permanent=True,
                    reason="the event holds a value storage cannot keep",
                )
            except StorageError as e:
                self.log.error("event %s from %s: storage failed: %s", event.msg_id, terminal, e)
                receipt = EventReceipt(
                    v=CONTRACT_VERSION,
                    msg_id=event.msg_id,
                    outcome=ReceiptOutcome.REJECTED,
                    permanent=False,
                    reason="storage unavailable, retry",
                )
        if receipt.outcome is ReceiptOutcome.ACCEPTED:
            self.stats.events_accepted += 1
        elif receipt.outcome is ReceiptOutcome.DUPLICATE:
            self.stats.events_duplicate += 1
        else:
            self.stats.events_rejected += 1
        client.publish(receipt_topic, encode(receipt), qos=1)

    def _on_telemetry(self, terminal: str, payload: bytes) -> None:
        try:
            report = decode(Telemetry, payload)
        except ContractError as e:
            self._reject(e.reason, terminal, e.detail)
            return
        if report.terminal_id != terminal:
            self._reject("terminal_mismatch", terminal, report.terminal_id)
            return
        self.stats.telemetry += 1
        self.ingest.ingest(report, self._clock())

    # ------------------------------------------------------------------ helpers

    def _flush_loop(self) -> None:
        interval = self._cfg.workers.telemetry_flush_s
        while not self._stopping.wait(interval):
            with self._db_lock:
                if self._storage is None:
                    return
                try:
                    self.ingest.flush(self._storage)
                except StorageError as e:
                    self.log.error("telemetry flush failed (kept for the next one): %s", e)
                except Exception:  # the flusher must outlive any row: it runs once per worker
                    self.log.exception("telemetry flush failed unexpectedly")

    def _status(self, state: PresenceState) -> StatusMessage:
        self._seq += 1
        now = self._clock()
        return StatusMessage(
            v=CONTRACT_VERSION,
            msg_id=new_msg_id(),
            terminal_id="central",
            boot_id=self._boot_id,
            seq=self._seq,
            mono=time.monotonic(),
            wall=now,
            clock_synced=True,
            state=state,
            software_version=SOFTWARE_VERSION,
            started_wall=self._started,
            maintenance=False,
        )


def new_boot_id() -> str:
    """A fresh boot id for this central process."""
    return uuid.uuid4().hex
