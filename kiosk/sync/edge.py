"""Hostile-input checks at the edge, as data, and the router built once from a table.

Every inbound message passes `InboundGuard.check` before any handler sees it: allowed topic
(our own terminal, a channel the kiosk subscribes to), size, JSON, schema and contract version,
then per-channel rules (command expiry, age, replay, unknown name, args schema). A rejection is
logged with its reason, counted, and never raises into the network thread.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from kiosk.clock import Clock
from kiosk.contract import (
    CENTRAL_STATUS_TOPIC,
    COMMAND_ARGS,
    KIOSK_SUBSCRIBES,
    MAX_PAYLOAD_BYTES,
    Channel,
    Command,
    CommandName,
    ContractError,
    EventReceipt,
    RpcResponse,
    StatusMessage,
    decode,
    parse_topic,
)
from kiosk.sync.transport import InboundMessage

__all__ = ["INBOUND_SCHEMAS", "Accepted", "InboundGuard", "Rejected", "Router"]

log = logging.getLogger("kiosk.sync.edge")

INBOUND_SCHEMAS: dict[Channel, type[BaseModel]] = {
    Channel.CMD: Command,
    Channel.RPC_RESPONSE: RpcResponse,
    Channel.EVENT_RECEIPT: EventReceipt,
}
"""Channel → payload model of every message a kiosk accepts."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message that passed every check."""

    channel: Channel
    message: BaseModel
    inbound: InboundMessage


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message refused at the edge; `reason` is stable (counted in telemetry)."""

    reason: str
    detail: str = ""


class InboundGuard:
    """The edge checks. Thread-safe; `seen_command` asks the journal about replays."""

    def __init__(
        self,
        terminal_id: str,
        clock: Clock,
        *,
        command_max_age_s: float,
        seen_command: Callable[[str], bool],
    ) -> None:
        self.terminal_id = terminal_id
        self._clock = clock
        self.command_max_age_s = command_max_age_s
        self._seen_command = seen_command
        self._lock = threading.Lock()
        self.rejections: Counter[str] = Counter()

    @property
    def rejected_total(self) -> int:
        """Every rejection since start."""
        with self._lock:
            return sum(self.rejections.values())

    def check(self, msg: InboundMessage) -> Accepted | Rejected:
        """Run every check; log and count a rejection. Never raises."""
        try:
            verdict = self._check(msg)
        except Exception as e:  # a bug in a check must not become a crash
            verdict = Rejected("internal", f"{type(e).__name__}: {e}")
        if isinstance(verdict, Rejected):
            with self._lock:
                self.rejections[verdict.reason] += 1
            log.warning(
                "inbound message on %s rejected: %s %s",
                msg.topic[:120],
                verdict.reason,
                verdict.detail[:200],
            )
        return verdict

    def _check(self, msg: InboundMessage) -> Accepted | Rejected:
        if msg.topic == CENTRAL_STATUS_TOPIC:
            # The central's retained birth: routed as the STATUS channel (a kiosk never
            # receives terminal status topics, KIOSK_SUBSCRIBES has no STATUS).
            if len(msg.payload) > MAX_PAYLOAD_BYTES:
                return Rejected("too_large", f"{len(msg.payload)} bytes")
            try:
                return Accepted(Channel.STATUS, decode(StatusMessage, msg.payload), msg)
            except ContractError as e:
                return Rejected(e.reason, e.detail)
        parsed = parse_topic(msg.topic)
        if parsed is None:
            return Rejected("topic", "not a terminal topic")
        terminal_id, channel = parsed
        if terminal_id != self.terminal_id:
            return Rejected("topic", f"for terminal {terminal_id}")
        if channel not in KIOSK_SUBSCRIBES:
            return Rejected("topic", f"channel {channel.value} is not inbound")
        if len(msg.payload) > MAX_PAYLOAD_BYTES:
            return Rejected("too_large", f"{len(msg.payload)} bytes")
        if msg.retain and channel is Channel.CMD:
            # A retained command would run again at every reconnect: never accept one.
            return Rejected("retained", "commands must not be retained")
        try:
            message = decode(INBOUND_SCHEMAS[channel], msg.payload)
        except ContractError as e:
            return Rejected(e.reason, e.detail)
        if isinstance(message, Command):
            return self._check_command(message, msg, channel)
        if (
            isinstance(message, RpcResponse)
            and msg.correlation is not None
            and msg.correlation.decode("ascii", "replace") != message.request_id
        ):
            return Rejected("correlation", "correlation data differs from request_id")
        return Accepted(channel, message, msg)

    def _check_command(
        self, cmd: Command, msg: InboundMessage, channel: Channel
    ) -> Accepted | Rejected:
        now = self._clock.wall()
        if cmd.expires_at <= now:
            return Rejected("expired", f"command {cmd.command_id} expired")
        if now - cmd.issued_at > self.command_max_age_s:
            return Rejected("stale", f"command {cmd.command_id} issued too long ago")
        if self._seen_command(cmd.command_id):
            return Rejected("replayed", f"command {cmd.command_id} already handled")
        try:
            name = CommandName(cmd.name)
        except ValueError:
            return Rejected("unknown_command", cmd.name[:40])
        args_model = COMMAND_ARGS[name]
        if args_model is None:
            if cmd.args:
                return Rejected("schema", f"{name.value} takes no args")
        else:
            try:
                decode(args_model, cmd.args)
            except ContractError as e:
                return Rejected("schema", f"args: {e.detail}")
        return Accepted(channel, cmd, msg)


class Router:
    """Maps each inbound channel to its handler; the table is fixed at construction."""

    def __init__(
        self,
        guard: InboundGuard,
        routes: dict[Channel, Callable[[Any], None]],
        on_rejected: Callable[[InboundMessage, Rejected], None] | None = None,
    ) -> None:
        missing = set(INBOUND_SCHEMAS) - set(routes)
        if missing:
            raise ValueError(f"no handler for {sorted(c.value for c in missing)}")
        self._guard = guard
        self._routes = dict(routes)
        self._on_rejected = on_rejected

    def dispatch(self, msg: InboundMessage) -> None:
        """Check `msg` and hand it to its handler (network thread). Never raises."""
        verdict = self._guard.check(msg)
        if isinstance(verdict, Rejected):
            if self._on_rejected is not None:
                try:
                    self._on_rejected(msg, verdict)
                except Exception:
                    log.exception("rejection handler failed")
            return
        handler = self._routes.get(verdict.channel)
        if handler is None:
            log.info("no route for %s", verdict.channel.value)
            return
        try:
            handler(verdict)
        except Exception:
            log.exception("handler of %s failed", verdict.channel.value)
