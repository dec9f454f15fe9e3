"""The sync service: transport, presence, edge checks, router, RPC, outbox drain and commands.

Threads: the transport's network thread (callbacks, routing), the drain thread, the command
worker, and a short-lived thread per connection for the `on_connected` hooks (they may make
RPC calls, which must never run on the network thread that delivers their answers).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from kiosk.clock import Clock
from kiosk.config.mqtt import MqttConfig
from kiosk.contract import (
    CENTRAL_STATUS_TOPIC,
    AckStatus,
    Channel,
    PresenceState,
    StatusMessage,
    encode,
    topic,
)
from kiosk.journal.store import Journal
from kiosk.sync.backoff import Backoff
from kiosk.sync.commands import AgentControl, CommandProcessor
from kiosk.sync.drain import OutboxDrainer
from kiosk.sync.edge import Accepted, InboundGuard, Rejected, Router
from kiosk.sync.rpc import RpcClient
from kiosk.sync.transport import InboundMessage, PahoTransport, Transport, Will

__all__ = ["SyncService"]

log = logging.getLogger("kiosk.sync")


class SyncService:
    """Everything the kiosk says to and hears from the central system.

    Build it once (composition root), `start()`, then use `rpc`, `journal` (to enqueue events,
    then `wake()`), and `stop()` for a clean shutdown (retained `stopped`, no will).
    """

    def __init__(
        self,
        config: MqttConfig,
        journal: Journal,
        clock: Clock,
        *,
        software_version: str,
        control: AgentControl | None = None,
        transport: Transport | None = None,
        client_suffix: str = "",
        backoff: Backoff | None = None,
    ) -> None:
        """`client_suffix` (e.g. ``pay``) makes an auxiliary client of this terminal beside a
        running agent: MQTT client id ``{terminal_id}-{suffix}`` (the broker would otherwise
        hand it the agent's connection and session), no presence (no birth, will or
        `stopped`: the agent's retained status stays true) and a session that ends with the
        connection (nothing queues for it between runs), and no outbox drain (the agent, now
        or at its next start, delivers the rows). The ACL holds: it keys on the certificate's
        identity, not the client id. `backoff` replaces the reconnect delays drawn from
        `config` (tests pin the random draw)."""
        self.config = config
        self.journal = journal
        self._clock = clock
        self.software_version = software_version
        self.terminal_id = journal.terminal_id
        self.started_wall = clock.wall()
        self.maintenance = False
        self.status_topic = topic(self.terminal_id, Channel.STATUS)
        self._hooks: list[Callable[[], object]] = []
        self._stopped = False
        self.presence = not client_suffix
        """False for an auxiliary client: it never touches the retained status."""
        if transport is None and client_suffix:
            transport = PahoTransport(
                config.model_copy(update={"session_expiry_s": 0}),
                client_id=f"{self.terminal_id}-{client_suffix}",
                clock=clock,
                first_connect=True,
                backoff=backoff,
            )
        elif transport is None:
            will = Will(
                self.status_topic,
                encode(self._status(PresenceState.OFFLINE)),
                delay_s=config.will_delay_s,
            )
            transport = PahoTransport(
                config,
                client_id=self.terminal_id,
                clock=clock,
                will=will,
                backoff=backoff,
            )
        self.transport = transport
        self.guard = InboundGuard(
            self.terminal_id,
            clock,
            command_max_age_s=config.command_max_age_s,
            seen_command=journal.command_seen,
        )
        self.rpc = RpcClient(
            transport,
            terminal_id=self.terminal_id,
            stamp=journal.stamp,
            clock=clock,
            default_timeout_s=config.rpc_timeout_s,
        )
        self.drainer = OutboxDrainer(journal, transport, config, clock)
        self.commands = (
            CommandProcessor(journal, transport, control, journal.stamp)
            if control is not None
            else None
        )
        routes: dict[Channel, Callable[[Any], None]] = {
            Channel.RPC_RESPONSE: self.rpc.on_response,
            Channel.EVENT_RECEIPT: self.drainer.on_receipt,
            Channel.CMD: self.commands.on_command if self.commands else self._no_commands,
            Channel.STATUS: self._on_central_status,
        }
        self.router = Router(self.guard, routes, on_rejected=self._on_rejected)
        transport.on_message = self.router.dispatch
        transport.on_connected = self._on_connected
        # Commands are the agent's: an auxiliary client does not even hear them.
        transport.subscribe([topic(self.terminal_id, Channel.RPC_RESPONSE), CENTRAL_STATUS_TOPIC])
        if self.presence:
            # Retain As Published: a retained command keeps its flag on live delivery too, so
            # the edge refuses it every time (not only after a reconnect), and it is never
            # re-sent at subscribe time (no rejection at every reconnect).
            transport.subscribe([topic(self.terminal_id, Channel.CMD)], retain_as_published=True)
        # Receipts at QoS 0: a lost receipt only means the row is sent again after
        # receipt_timeout_s and receipted `duplicate`; skipping a PUBACK per receipt lets the
        # backlog drain about twice as fast (bench/sync_drain.py).
        if self.presence:  # an auxiliary client leaves the outbox to the agent
            transport.subscribe([topic(self.terminal_id, Channel.EVENT_RECEIPT)], qos=0)
        self._control = control
        self._central_boot: str | None = None
        self.rebirths = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Connect in the background and start draining."""
        self.transport.start()
        if self.presence:
            self.drainer.start()
        if self.commands is not None:
            self.commands.start()

    def stop(self) -> None:
        """Retained `stopped`, clean disconnect (the will is not sent), threads joined.

        Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self.commands is not None:
            self.commands.stop()
        self.drainer.stop()
        if not self.presence:
            self.transport.stop(final=None)
            return
        self.transport.stop(final=(self.status_topic, encode(self._status(PresenceState.STOPPED))))

    def add_connected_hook(self, hook: Callable[[], object]) -> None:
        """Run `hook` (off the network thread) after every successful connection."""
        self._hooks.append(hook)

    @property
    def connected(self) -> bool:
        """True while the broker connection is up."""
        return self.transport.connected

    def wake(self) -> None:
        """New outbox rows: drain now."""
        self.drainer.wake()

    # ------------------------------------------------------------------ presence

    def _status(self, state: PresenceState) -> StatusMessage:
        return StatusMessage(
            state=state,
            software_version=self.software_version,
            started_wall=max(0.0, self.started_wall),
            maintenance=self.maintenance,
            **self.journal.stamp(),
        )

    def publish_status(self) -> None:
        """Publish the retained `online` status (birth; again on rebirth or maintenance)."""
        if self.presence and self.transport.connected:
            self.transport.publish(
                self.status_topic, encode(self._status(PresenceState.ONLINE)), retain=True
            )

    def _on_connected(self, session_present: bool) -> None:
        self.publish_status()
        self.drainer.on_connected(session_present)
        if self._hooks:
            threading.Thread(target=self._run_hooks, name="sync-on-connect", daemon=True).start()

    def _run_hooks(self) -> None:
        for hook in self._hooks:
            try:
                hook()
            except Exception:
                log.exception("on-connect hook %s failed", getattr(hook, "__name__", hook))

    # ------------------------------------------------------------------ inbound odds and ends

    def _on_central_status(self, accepted: Accepted) -> None:
        """The central's birth: every unreceipted row is re-sent at once, and a new central
        boot gets our full state (rebirth).

        Rebirth on peer birth (Sparkplug): after a broker restart, mosquitto drops what is
        published to a shared subscription none of whose members has reconnected yet; the
        central's birth (worker 0 publishes it once subscribed) says they are listening again,
        so waiting `receipt_timeout_s` for the rows sent into the void is needless. The central
        applies each key once, so a row it already had is only receipted `duplicate`."""
        status = accepted.message
        assert isinstance(status, StatusMessage)
        if status.state is not PresenceState.ONLINE:
            return
        if self.presence:
            self.drainer.resend_unreceipted()
        previous, self._central_boot = self._central_boot, status.boot_id
        if previous is None or previous == status.boot_id:
            return  # first sight after our own connect: our birth is already out
        log.info("central restarted (boot %s): republishing our state", status.boot_id)
        self.rebirths += 1
        rebirth = self._control.rebirth if self._control is not None else self.publish_status
        threading.Thread(target=rebirth, name="sync-rebirth", daemon=True).start()

    def _no_commands(self, accepted: object) -> None:
        log.warning("command received but this process runs no command handlers")

    def _on_rejected(self, msg: InboundMessage, verdict: Rejected) -> None:
        # A refused command whose id can be read is acked `rejected`, so the operator sees why:
        # once per id (the journal remembers it), so redeliveries and restarts make no storm.
        if self.commands is None or not msg.topic.endswith("/" + Channel.CMD.value):
            return
        if verdict.reason in ("topic", "too_large", "bad_json"):
            return
        try:
            data = json.loads(msg.payload)
        except ValueError:
            return
        command_id = data.get("command_id") if isinstance(data, dict) else None
        if isinstance(command_id, str) and 8 <= len(command_id) <= 64:
            if verdict.reason == "replayed":
                return  # the first delivery was already acked
            if not self.journal.command_record(command_id, AckStatus.REJECTED.value):
                return  # this id was answered before
            self.commands.ack(command_id, AckStatus.REJECTED, f"{verdict.reason}: {verdict.detail}")

    def counters(self) -> dict[str, int]:
        """Counters for telemetry and `kiosk sync status`."""
        t = self.transport
        return {
            "connects": int(getattr(t, "connects", 0)),
            "disconnects": int(getattr(t, "disconnects", 0)),
            "rejected_inbound": self.guard.rejected_total,
            "published": self.drainer.published,
            "resent": self.drainer.resent,
            "receipted": self.drainer.receipted,
            "resend_passes": self.drainer.resend_passes,
            "rpc_calls": self.rpc.calls,
            "rpc_timeouts": self.rpc.timeouts,
        }
