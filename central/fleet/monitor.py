"""The fleet monitor as one component: state + MQTT adapter + web server, started and stopped.

`kiosk-central run` composes it (helper F); `python -m central.fleet` runs it alone.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pydantic import ValidationError

from central.fleet.config import FleetConfig
from central.fleet.desk import StaffDesk
from central.fleet.errors import CommandRefusedError
from central.fleet.mqtt import FleetMqtt
from central.fleet.state import Clock, FleetState
from central.fleet.web import FleetWebServer
from kiosk.contract import COMMAND_ARGS, Command, CommandName, new_msg_id

__all__ = ["FleetMonitor", "WallClock"]

logger = logging.getLogger("central.fleet")


class WallClock:
    """The real clock (central must not import kiosk.clock; the shape is the same)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class FleetMonitor:
    """Watches every terminal through the broker and serves the operator page.

    `start()` binds the web server (so `url` is final; `http_port=0` picks a free port) and
    connects to the broker in the background; `stop()` mirrors it. Thread-safe `send_command`.
    Times in seconds; `clock` defaults to the system clock.
    """

    def __init__(
        self,
        broker_host: str,
        broker_port: int,
        http_host: str,
        http_port: int,
        *,
        stale_after_s: float,
        flap_window_s: float,
        flap_threshold: int,
        clock: Clock | None = None,
        command_expiry_s: float = 60.0,
        push_interval_s: float = 0.5,
        heartbeat_s: float = 15.0,
        keepalive_s: int = 30,
        reconnect_min_s: float = 1.0,
        reconnect_max_s: float = 60.0,
        commands_kept: int = 5,
        rebirth_on_start: bool = True,
    ) -> None:
        self._clock: Clock = clock or WallClock()
        self._command_expiry = command_expiry_s
        self.state = FleetState(
            self._clock,
            stale_after_s=stale_after_s,
            flap_window_s=flap_window_s,
            flap_threshold=flap_threshold,
            commands_kept=commands_kept,
        )
        self.desk = StaffDesk(self._clock)
        self.mqtt = FleetMqtt(
            broker_host,
            broker_port,
            self.state,
            keepalive_s=keepalive_s,
            reconnect_min_s=reconnect_min_s,
            reconnect_max_s=reconnect_max_s,
            on_retained_online=self._request_rebirth if rebirth_on_start else None,
            desk=self.desk,
        )
        self._web_args = (http_host, http_port)
        self._push_interval, self._heartbeat = push_interval_s, heartbeat_s
        self._web: FleetWebServer | None = None

    @classmethod
    def from_config(cls, config: FleetConfig, clock: Clock | None = None) -> FleetMonitor:
        """Build from the `[fleet]` config section."""
        return cls(
            config.broker_host,
            config.broker_port,
            config.http_host,
            config.http_port,
            stale_after_s=config.stale_after_s,
            flap_window_s=config.flap_window_s,
            flap_threshold=config.flap_threshold,
            clock=clock,
            command_expiry_s=config.command_expiry_s,
            push_interval_s=config.push_interval_s,
            heartbeat_s=config.heartbeat_s,
            keepalive_s=config.keepalive_s,
            reconnect_min_s=config.reconnect_min_s,
            reconnect_max_s=config.reconnect_max_s,
            commands_kept=config.commands_kept,
            rebirth_on_start=config.rebirth_on_start,
        )

    @property
    def url(self) -> str:
        """The page's address, e.g. ``http://127.0.0.1:8080/``. Valid after `start()`."""
        if self._web is None:
            raise RuntimeError("FleetMonitor.url is known only after start()")
        return self._web.url

    def start(self) -> None:
        """Bind the web server (OSError if the port is taken) and connect to the broker."""
        self._web = FleetWebServer(
            *self._web_args,
            self.state,
            self.send_command,
            lambda: self.mqtt.connected,
            push_interval_s=self._push_interval,
            heartbeat_s=self._heartbeat,
            desk=self.desk,
        )
        self._web.start()
        self.mqtt.start()
        logger.info("fleet monitor at %s", self._web.url)

    def stop(self) -> None:
        """Stop the web server, then the MQTT client. Idempotent."""
        if self._web is not None:
            self._web.stop()
            self._web = None
        self.mqtt.stop()

    def _request_rebirth(self, terminal_id: str) -> None:
        """Ask a terminal known online from its retained status to republish its full state
        (status and telemetry) now, so the page is complete at start. paho's thread."""
        try:
            self.send_command(terminal_id, CommandName.REBIRTH.value, {})
        except Exception as e:  # the page still fills in at the next telemetry
            logger.warning("rebirth request to %s not sent: %s", terminal_id, e)

    def send_command(self, terminal_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Validate and publish a remote command; returns its record (state ``sent``) as JSON.

        Raises CommandRefusedError (unknown terminal or command, bad args) or PublishError
        (broker unreachable). The command expires after `command_expiry_s`: the broker drops it
        undelivered (Message Expiry) and the kiosk rejects it late.
        """
        if not self.state.knows(terminal_id):
            raise CommandRefusedError(f"unknown terminal {terminal_id}")
        try:
            command_name = CommandName(name)
        except ValueError:
            raise CommandRefusedError(f"unknown command {name[:40]!r}") from None
        args_model = COMMAND_ARGS[command_name]
        try:
            if args_model is None:
                if args:
                    raise CommandRefusedError(f"{command_name.value} takes no arguments")
            else:
                args = args_model.model_validate(args).model_dump()
            now = self._clock.wall()
            command = Command(
                command_id=new_msg_id(),
                name=command_name.value,
                args=args,
                issued_at=now,
                expires_at=now + self._command_expiry,
            )
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise CommandRefusedError(f"bad arguments: {where}: {first['msg']}") from None
        # Recorded before publishing: an ack can race the return of publish().
        record = self.state.record_command(
            terminal_id, command.command_id, command.name, command.expires_at
        )
        # The answer describes the send; taken now, since the record follows the acks and one
        # may already have arrived by the time publish() returns. Later states are polled.
        answer = record.as_json()
        try:
            self.mqtt.publish_command(terminal_id, command, self._command_expiry)
        except Exception:
            self.state.ack_failed_locally(terminal_id, command.command_id, "not sent")
            raise
        logger.info("command %s %s sent to %s", command.name, command.command_id, terminal_id)
        return answer
