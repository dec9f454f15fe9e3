"""Remote commands: `handle_<command>` handlers, each with a help string, acked on ``cmd/ack``.

A command reaches a handler only after the edge checks (expiry, age, replay, name, args). Its id
is recorded in the journal before it runs, so a redelivered command never runs twice, even
across a restart. Acks: ``accepted`` at once, then ``succeeded`` or ``failed``; rejections
from the edge are acked ``rejected`` with the reason, once per command id (the id is recorded
too), so that a redelivered or retained command never makes an ack storm.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from kiosk.contract import (
    COMMAND_ARGS,
    AckStatus,
    Channel,
    CollectLogsArgs,
    Command,
    CommandAck,
    CommandName,
    MaintenanceArgs,
    SetConfigArgs,
    encode,
    topic,
)
from kiosk.journal.store import Journal
from kiosk.sync.edge import Accepted
from kiosk.sync.transport import Transport

__all__ = ["AgentControl", "CommandProcessor"]

log = logging.getLogger("kiosk.sync.commands")


class AgentControl(Protocol):
    """What command handlers may ask of the agent (implemented by kiosk.agent.Agent)."""

    def set_maintenance(self, enabled: bool) -> None:
        """Enter or leave maintenance (the session machine shows Out of Service)."""
        ...

    def reload_config(self) -> str:
        """Reload the config files; returns a summary. Raises on an invalid config."""
        ...

    def set_config(self, key: str, value: str | int | float | bool) -> dict[str, Any]:
        """Validate and persist a runtime override. Raises ValueError when invalid."""
        ...

    def restart_app(self) -> None:
        """Ask the process to exit for its supervisor (systemd) to restart it."""
        ...

    def rebirth(self) -> None:
        """Republish the full state: status and telemetry."""
        ...

    def log_tail(self, lines: int) -> list[str]:
        """The last `lines` log lines, already redacted."""
        ...


class CommandProcessor:
    """Runs accepted commands on its own worker thread (handlers may take seconds)."""

    handle_ping_help = "Answer with the terminal's wall clock and boot id."
    handle_maintenance_help = "Enter (enabled=true) or leave (false) maintenance mode."
    handle_reload_config_help = "Reload the config files and report what changed."
    handle_set_config_help = "Set one validated config key at run time (kept across restarts)."
    handle_collect_logs_help = "Return the last N log lines, redacted."
    handle_restart_app_help = "Exit so that systemd restarts the application."
    handle_rebirth_help = "Republish the retained status and a telemetry report now."

    def __init__(
        self,
        journal: Journal,
        transport: Transport,
        control: AgentControl,
        stamp: Callable[[], dict[str, Any]],
    ) -> None:
        self._journal = journal
        self._transport = transport
        self._control = control
        self._stamp = stamp
        self.ack_topic = topic(journal.terminal_id, Channel.CMD_ACK)
        self._queue: queue.Queue[Command | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.handled = 0
        self.failed = 0
        missing = [n.value for n in CommandName if not hasattr(self, f"handle_{n.value}")]
        if missing:  # the contract and the handlers must not drift apart
            raise TypeError(f"no handler for commands {missing}")

    @classmethod
    def help(cls) -> dict[str, str]:
        """command name → help string (for `kiosk sync commands` and the fleet page)."""
        return {n.value: str(getattr(cls, f"handle_{n.value}_help")) for n in CommandName}

    def start(self) -> None:
        """Start the worker thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="commands", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the worker after the command in hand."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def on_command(self, accepted: Accepted) -> None:
        """Router handler for ``cmd`` (network thread): record the id, ack, queue."""
        cmd = accepted.message
        assert isinstance(cmd, Command)
        if not self._journal.command_record(cmd.command_id, AckStatus.ACCEPTED.value):
            # Two deliveries raced past the edge check: the second one is a replay.
            self.ack(cmd.command_id, AckStatus.REJECTED, "replayed")
            return
        self.ack(cmd.command_id, AckStatus.ACCEPTED)
        self._queue.put(cmd)

    def reject(self, command_id: str, reason: str) -> None:
        """Ack a command refused at the edge (only when its id could be read)."""
        self.ack(command_id, AckStatus.REJECTED, reason)

    def ack(
        self,
        command_id: str,
        status: AckStatus,
        detail: str = "",
        result: dict[str, Any] | None = None,
    ) -> None:
        """Publish one acknowledgement (QoS 1; paho keeps it if the link is down)."""
        ack = CommandAck(
            command_id=command_id,
            status=status,
            detail=detail[:500],
            result=result or {},
            **self._stamp(),
        )
        self._transport.publish(self.ack_topic, encode(ack), qos=1)

    def _run(self) -> None:
        while True:
            cmd = self._queue.get()
            if cmd is None:
                return
            self.run(cmd)

    def run(self, cmd: Command) -> None:
        """Run one validated command and ack its outcome (worker thread)."""
        name = CommandName(cmd.name)
        handler = getattr(self, f"handle_{name.value}")
        args_model = COMMAND_ARGS[name]
        args = args_model.model_validate(cmd.args) if args_model is not None else None
        try:
            result = handler(args)
        except Exception as e:
            self.failed += 1
            log.warning("command %s %s failed: %s", name.value, cmd.command_id, e)
            self.ack(cmd.command_id, AckStatus.FAILED, f"{type(e).__name__}: {e}")
            return
        self.handled += 1
        log.info("command %s %s succeeded", name.value, cmd.command_id)
        self.ack(cmd.command_id, AckStatus.SUCCEEDED, result=result)

    # ------------------------------------------------------------------ handlers

    def handle_ping(self, args: None) -> dict[str, Any]:
        env = self._stamp()
        return {"pong": env["wall"], "boot_id": env["boot_id"]}

    def handle_maintenance(self, args: MaintenanceArgs) -> dict[str, Any]:
        self._control.set_maintenance(args.enabled)
        return {"maintenance": args.enabled}

    def handle_reload_config(self, args: None) -> dict[str, Any]:
        return {"summary": self._control.reload_config()}

    def handle_set_config(self, args: SetConfigArgs) -> dict[str, Any]:
        return self._control.set_config(args.key, args.value)

    def handle_collect_logs(self, args: CollectLogsArgs) -> dict[str, Any]:
        lines = self._control.log_tail(args.lines)
        # Keep the ack far below the payload limit: newest lines win.
        out: list[str] = []
        size = 0
        for line in reversed(lines):
            size += len(line) + 4
            if size > 100_000:
                break
            out.append(line)
        return {"lines": list(reversed(out))}

    def handle_restart_app(self, args: None) -> dict[str, Any]:
        self._control.restart_app()
        return {"restarting": True}

    def handle_rebirth(self, args: None) -> dict[str, Any]:
        self._control.rebirth()
        return {"rebirth": True}
