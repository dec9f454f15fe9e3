"""The MQTT transport adapter: paho-mqtt (VERSION2 callbacks, MQTT 5) behind publish/subscribe/stop.

paho types stop here. The adapter runs its own network thread (`client.loop()` plus our own
reconnect decisions) because paho's built-in reconnect only doubles its delay, without jitter
(fleets reconnect in lockstep). Connection: clean start only the very first time the terminal
ever connects (the journal remembers it, so a process restart resumes the broker session),
session expiry from config, retained will with will delay, optional TLS with a client
certificate.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.clock import Clock
from kiosk.config.mqtt import MqttConfig
from kiosk.sync.backoff import Backoff

__all__ = ["InboundMessage", "PahoTransport", "PublishHandle", "Transport", "Will"]


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message received from the broker, in our own types."""

    topic: str
    payload: bytes
    correlation: bytes | None = None
    response_topic: str | None = None
    expiry_s: int | None = None
    retain: bool = False


@dataclass(frozen=True, slots=True)
class Will:
    """The last will: published by the broker `delay_s` after the connection is lost."""

    topic: str
    payload: bytes
    delay_s: int
    retain: bool = True


class PublishHandle(Protocol):
    """What `publish` returns: whether the broker acknowledged it (PUBACK for QoS 1)."""

    def is_published(self) -> bool:
        """True once the broker acknowledged it."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for the acknowledgement; True if it came."""
        ...


class Transport(Protocol):
    """The small interface the sync layer needs from an MQTT client."""

    on_message: Callable[[InboundMessage], None] | None
    on_connected: Callable[[bool], None] | None
    on_disconnected: Callable[[str], None] | None

    @property
    def connected(self) -> bool:
        """True between a successful CONNACK and the loss of the connection."""
        ...

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry_s: int | None = None,
    ) -> PublishHandle:
        """Queue a publish (any thread); never blocks on the network."""
        ...

    def subscribe(self, filters: list[str], qos: int = 1) -> None:
        """Subscribe now (if connected) and again after every connect, at `qos` (the broker
        delivers at most that QoS)."""
        ...

    def start(self) -> None:
        """Start the network thread; connection happens in the background."""
        ...

    def stop(self, final: tuple[str, bytes] | None = None) -> None:
        """Publish `final` (retained, QoS 1) if connected, then disconnect cleanly (no will)."""
        ...


class _Handle:
    def __init__(self, info: mqtt.MQTTMessageInfo) -> None:
        self._info = info

    def is_published(self) -> bool:
        return bool(self._info.is_published())

    def wait(self, timeout: float) -> bool:
        try:
            self._info.wait_for_publish(timeout)
        except (RuntimeError, ValueError):
            return False  # not queued (connection gone): the caller's journal still has it
        return bool(self._info.is_published())


class PahoTransport:
    """paho-mqtt MQTT 5 client with a network thread and jittered reconnects.

    Callbacks (`on_message`, `on_connected(session_present)`, `on_disconnected(reason)`) run on
    the network thread: they must be quick and must not raise (exceptions are logged).
    """

    def __init__(
        self,
        config: MqttConfig,
        *,
        client_id: str,
        clock: Clock,
        will: Will | None = None,
        first_connect: bool = False,
        backoff: Backoff | None = None,
    ) -> None:
        self.config = config
        self.client_id = client_id
        self._clock = clock
        self.log = logging.getLogger(f"kiosk.sync.transport.{client_id}")
        self.on_message: Callable[[InboundMessage], None] | None = None
        self.on_connected: Callable[[bool], None] | None = None
        self.on_disconnected: Callable[[str], None] | None = None
        self.acked = threading.Condition()  # notified on every PUBACK (drain window)
        self._filters: dict[str, int] = {}  # topic filter -> subscription QoS
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self.connects = 0
        self.disconnects = 0
        self.last_error = ""
        self._backoff = backoff or Backoff(
            config.backoff_base_s,
            config.backoff_cap_s,
            config.first_delay_max_s,
            config.stable_after_s,
        )
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
        client.connect_timeout = config.connect_timeout_s
        client.max_inflight_messages_set(config.max_inflight)
        client.max_queued_messages_set(0)
        if config.tls:
            client.tls_set(
                ca_certs=config.ca_file or None,
                certfile=config.cert_file or None,
                keyfile=config.key_file or None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
            client.tls_insecure_set(config.tls_insecure)
        if will is not None:
            props = Properties(PacketTypes.WILLMESSAGE)  # type: ignore[no-untyped-call]
            props.WillDelayInterval = will.delay_s
            client.will_set(will.topic, will.payload, qos=1, retain=will.retain, properties=props)
        connect_props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect_props.SessionExpiryInterval = config.session_expiry_s
        client.connect_async(
            config.host,
            config.port,
            keepalive=config.keepalive_s,
            # The broker session survives process restarts: a clean start is only for the very
            # first connection of this terminal (the caller knows it from the journal).
            clean_start=mqtt.MQTT_CLEAN_START_FIRST_ONLY if first_connect else False,
            properties=connect_props,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_socket_open = self._on_socket_open
        self._sub_mid: int | None = None
        self._session_present = False
        self._client = client

    # ------------------------------------------------------------------ public

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected; True if it is."""
        return self._connected.wait(timeout)

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry_s: int | None = None,
    ) -> PublishHandle:
        props: Properties | None = None
        if response_topic or correlation or expiry_s:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            if response_topic:
                props.ResponseTopic = response_topic
            if correlation:
                props.CorrelationData = correlation
            if expiry_s:
                props.MessageExpiryInterval = expiry_s
        info = self._client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        return _Handle(info)

    def subscribe(self, filters: list[str], qos: int = 1) -> None:
        with self._lock:
            for f in filters:
                self._filters[f] = qos
        if self.connected:
            self._client.subscribe([(f, qos) for f in filters])

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name=f"mqtt-{self.client_id}", daemon=True
        )
        self._thread.start()

    def stop(self, final: tuple[str, bytes] | None = None) -> None:
        if self._thread is None:
            return
        if final is not None and self.connected:
            handle = self.publish(final[0], final[1], qos=1, retain=True)
            if not handle.wait(self.config.stop_timeout_s):
                self.log.warning(
                    "final status not acknowledged within %.1f s", self.config.stop_timeout_s
                )
        self._stop.set()
        self._thread.join(timeout=self.config.stop_timeout_s + 2)
        self._thread = None

    # ------------------------------------------------------------------ network thread

    def _run(self) -> None:
        delay = 0.0  # the very first attempt goes at once
        while not self._stop.is_set():
            if delay and self._stop.wait(delay):
                break
            try:
                rc = self._client.reconnect()
            except (OSError, ssl.SSLError, ValueError) as e:
                self._note_error(f"connect: {e}")
                delay = self._backoff.failed()
                continue
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._note_error(f"connect rc {rc}")
                delay = self._backoff.failed()
                continue
            was_connected = self._loop_until_down()
            if self._stop.is_set():
                break
            now = self._clock.monotonic()
            delay = self._backoff.lost(now) if was_connected else self._backoff.failed()
        self._shutdown()

    def _loop_until_down(self) -> bool:
        """Run paho's loop while the socket lives; True if a CONNACK was received."""
        was_connected = False
        while not self._stop.is_set():
            try:
                rc = self._client.loop(timeout=0.05)
            except (OSError, ssl.SSLError) as e:
                self._note_error(f"loop: {e}")
                rc = MQTTErrorCode.MQTT_ERR_CONN_LOST
            was_connected = was_connected or self.connected
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                if not was_connected:
                    # e.g. TLS 1.3: the broker refuses our certificate after the handshake.
                    self._note_error(f"connection closed before CONNACK ({rc.name})")
                break
        if self._connected.is_set() and not self._stop.is_set():
            self._mark_down("loop ended")
        # When stopping, stay "connected" so that _shutdown sends a normal DISCONNECT: a socket
        # closed without one makes the broker publish the will.
        return was_connected

    def _shutdown(self) -> None:
        if self.connected:
            try:
                # Normal disconnection (reason 0): the broker discards the will; the session
                # stays for its expiry so queued commands and receipts survive a restart.
                self._client.disconnect()
                for _ in range(20):
                    if self._client.loop(timeout=0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                        break
            except (OSError, ssl.SSLError):
                pass
        self._connected.clear()
        with contextlib.suppress(OSError, ssl.SSLError, ValueError):
            self._client.loop(timeout=0.0)

    def _note_error(self, text: str) -> None:
        if text != self.last_error:
            self.log.warning("broker %s:%d: %s", self.config.host, self.config.port, text)
        self.last_error = text

    def _mark_down(self, reason: str) -> None:
        self._connected.clear()
        self.disconnects += 1
        self.log.warning("disconnected from broker: %s", reason)
        cb = self.on_disconnected
        if cb is not None:
            try:
                cb(reason)
            except Exception:
                self.log.exception("on_disconnected handler failed")

    # ------------------------------------------------------------------ paho callbacks

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            # Refused (bad credentials, not authorised...): stay down, let the backoff retry.
            self._note_error(f"connection refused: {reason}")
            return
        self.connects += 1
        self.last_error = ""
        self._backoff.connected(self._clock.monotonic())
        session_present = bool(flags.session_present)
        self.log.info("connected to broker (session present: %s)", session_present)
        with self._lock:
            filters = sorted(self._filters.items())
        if not filters:
            self._ready(session_present)
            return
        # Always (re)subscribe: cheap, and right whether or not the session was resumed. The
        # connection counts as up only at the SUBACK, so nothing sent to us before is missed.
        self._session_present = session_present
        _, self._sub_mid = client.subscribe(filters)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        if mid == self._sub_mid and not self._connected.is_set():
            if any(getattr(r, "is_failure", False) for r in reasons):
                self._note_error(f"subscription refused: {reasons}")
            self._ready(self._session_present)

    def _ready(self, session_present: bool) -> None:
        self._connected.set()
        cb = self.on_connected
        if cb is not None:
            try:
                cb(session_present)
            except Exception:
                self.log.exception("on_connected handler failed")

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # paho leaves Nagle on: an RPC answer then waits for the delayed ACK of the PUBACK
        # before it (~40 ms per hop, measured 88 ms round trips on loopback without this).
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._stop.is_set():
            self._connected.clear()  # our own clean disconnect
            self.log.info("disconnected from broker: %s", reason)
        elif self._connected.is_set():
            self._mark_down(str(reason))

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        props = getattr(msg, "properties", None)
        correlation = getattr(props, "CorrelationData", None)
        inbound = InboundMessage(
            topic=msg.topic,
            payload=bytes(msg.payload),
            correlation=bytes(correlation) if correlation is not None else None,
            response_topic=getattr(props, "ResponseTopic", None),
            expiry_s=getattr(props, "MessageExpiryInterval", None),
            retain=bool(msg.retain),
        )
        cb = self.on_message
        if cb is not None:
            try:
                cb(inbound)
            except Exception:
                # A handler bug must never kill the network thread.
                self.log.exception("inbound handler failed on %s", msg.topic)

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any
    ) -> None:
        with self.acked:
            self.acked.notify_all()
