"""The monitor's MQTT adapter (paho-mqtt 2, MQTT 5): feeds FleetState, publishes commands.

Plain (not shared) subscriptions: the monitor must see every terminal's every message, whereas
the central's workers split the load through `$share/central/...`. A clean session suffices:
presence is retained, telemetry repeats every few seconds, and command state lives in memory.
To see full state at once rather than after a telemetry period, every terminal whose retained
status says `online` when the monitor (re)subscribes is handed to `on_retained_online`, which
the monitor uses to send it a `rebirth` command (Sparkplug's primary host does the same).
paho types stop here.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from central.fleet.desk import StaffDesk
from central.fleet.errors import PublishError
from central.fleet.messages import (
    AckUpdate,
    AlertUpdate,
    JourneyUpdate,
    StatusUpdate,
    TelemetryUpdate,
    UnusableMessageError,
    parse_message,
)
from central.fleet.state import FleetState
from kiosk.contract import Channel, Command, encode, topic, topic_filter

__all__ = ["FleetMqtt"]

logger = logging.getLogger("central.fleet.mqtt")

# EVENTS: a plain (not shared) copy of every business event, for the staff alerts and journey
# statistics only (the central's workers apply them; parse_message drops every other kind).
SUBSCRIPTIONS = (Channel.STATUS, Channel.TELEMETRY, Channel.CMD_ACK, Channel.EVENTS)


class FleetMqtt:
    """Subscribes to every terminal's status, telemetry and cmd/ack; publishes commands.

    Threads: paho's network thread runs the callbacks, which only update `state` (never raise);
    `publish_command` may be called from any thread.
    """

    def __init__(
        self,
        host: str,
        port: int,
        state: FleetState,
        *,
        keepalive_s: int = 30,
        reconnect_min_s: float = 1.0,
        reconnect_max_s: float = 60.0,
        client_id: str | None = None,
        on_retained_online: Callable[[str], None] | None = None,
        desk: StaffDesk | None = None,
    ) -> None:
        self._host, self._port, self._keepalive = host, port, keepalive_s
        self._desk = desk
        self.on_retained_online = on_retained_online
        """Called (paho's thread) with each terminal whose retained status is `online`."""
        self._state = state
        self._connected = threading.Event()
        self._stopping = False
        self._warned: set[tuple[str | None, str]] = set()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"central-fleet-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5,
        )
        # paho backs off by doubling without jitter; one monitor reconnecting is no storm.
        self._client.reconnect_delay_set(
            min_delay=max(1, round(reconnect_min_s)), max_delay=max(1, round(reconnect_max_s))
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_socket_open = self._on_socket_open

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background (the web page works, empty, while the broker is away)."""
        self._client.connect_async(
            self._host, self._port, keepalive=self._keepalive, clean_start=True
        )
        self._client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for the first connection; True when connected."""
        return self._connected.wait(timeout)

    def stop(self) -> None:
        """Disconnect and stop the network thread. Idempotent."""
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    def publish_command(self, terminal_id: str, command: Command, expiry_s: float) -> None:
        """Publish `command` to the terminal's cmd topic, QoS 1, never retained (a retained
        `restart` would fire at every reconnect), with MQTT 5 Message Expiry so the broker drops
        it unsent once it is too old. Raises PublishError when the broker is not reachable.
        """
        if not self.connected:
            raise PublishError("not connected to the broker")
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.MessageExpiryInterval = max(1, int(expiry_s))
        info = self._client.publish(
            topic(terminal_id, Channel.CMD), encode(command), qos=1, retain=False, properties=props
        )
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise PublishError(f"publish refused: {mqtt.error_string(info.rc)}")

    # ---- paho callbacks (network thread) --------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason_code: Any, _p: Any) -> None:
        if reason_code.is_failure:
            # Frigate sets `connected` even on a refused CONNACK; we do not: refused is not
            # connected.
            logger.warning(
                "broker %s:%s refused the connection: %s", self._host, self._port, reason_code
            )
            return
        client.subscribe([(topic_filter(ch), 1) for ch in SUBSCRIPTIONS])
        logger.info("connected to broker %s:%s", self._host, self._port)
        self._connected.set()

    def _on_socket_open(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        # paho leaves Nagle on: a command would wait for the delayed ACK of the previous
        # packet (~40 ms per hop on Linux).
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason_code: Any, _p: Any) -> None:
        if self._connected.is_set() and not self._stopping:
            logger.warning("lost the broker %s:%s: %s", self._host, self._port, reason_code)
        self._connected.clear()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._handle(msg.topic, bytes(msg.payload), retained=bool(msg.retain))
        except Exception:  # a bug here must not kill paho's thread and blind the monitor
            logger.exception("fleet message on %r could not be handled", msg.topic[:120])

    def _handle(self, topic_name: str, payload: bytes, *, retained: bool = False) -> None:
        try:
            parsed = parse_message(topic_name, payload)
        except UnusableMessageError as e:
            self._state.note_malformed(e.terminal_id, e.message)
            key = (e.terminal_id, e.message.split(":", 1)[0])
            # Log each (terminal, reason) once at warning: a hostile sender must not flood logs.
            level = logging.DEBUG if key in self._warned else logging.WARNING
            self._warned.add(key)
            logger.log(
                level,
                "rejected message from %s (%d bytes): %s",
                e.terminal_id or "?",
                len(payload),
                e.message,
            )
            return
        if parsed is None:
            return
        terminal_id, update = parsed
        if isinstance(update, StatusUpdate):
            self._state.apply_status(terminal_id, update)
            hook = self.on_retained_online
            if retained and update.state == "online" and hook is not None:
                hook(terminal_id)
        elif isinstance(update, TelemetryUpdate):
            self._state.apply_telemetry(terminal_id, update)
        elif isinstance(update, AlertUpdate):
            if self._desk is not None:
                self._desk.apply_alert(terminal_id, update)
        elif isinstance(update, JourneyUpdate):
            if self._desk is not None:
                self._desk.apply_journey(terminal_id, update)
        elif isinstance(update, AckUpdate) and not self._state.apply_ack(terminal_id, update):
            logger.debug(
                "ack from %s for a command not sent here: %s", terminal_id, update.command_id
            )
