"""One headless kiosk on emulated hardware: the rig (card emulator behind pcscd, scanner on a
pty, generated camera stream) and the agent (journal, MQTT sync to the central), for
`kiosk journey`, the demo and the benchmark.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from drivers.card.emulator.harness import EmulatedReaders
from kiosk.agent import Agent
from kiosk.config import KioskConfig
from kiosk.journeys.live import Backend
from kiosk.journeys.rig import EmulatedHardware, reader_lock, stop_system_pcscd

__all__ = ["Headless", "headless_kiosk"]

log = logging.getLogger("kiosk.journeys.headless")
Say = Callable[[str], None]


@dataclass(slots=True)
class Headless:
    """The running rig and agent; `backend` for `run_journey`, `online` once connected."""

    hardware: EmulatedHardware
    agent: Agent

    @property
    def backend(self) -> Backend:
        a = self.agent
        assert a.journal is not None and a.sync is not None and a.payments is not None
        return Backend(
            a.journal,
            a.sync.rpc,
            a.payments,
            a.sync.wake,
            lambda: a.sync is not None and a.sync.connected,
        )

    @property
    def online(self) -> bool:
        return self.agent.sync is not None and self.agent.sync.connected

    def wait_online(self, timeout_s: float) -> bool:
        """True once the agent is connected to the broker (False after `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while not self.online:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


@contextlib.contextmanager
def headless_kiosk(
    config: KioskConfig,
    workdir: Path,
    *,
    say: Say,
    readers: EmulatedReaders | None = None,
    card_profile: str = "ssc3",
) -> Iterator[Headless]:
    """Rig and agent, stopped on exit. Without `readers` the rig starts its own pcscd and
    emulator under the machine's reader lock (stopping a socket-activated system pcscd)."""
    with contextlib.ExitStack() as stack:
        if readers is None:
            stack.enter_context(reader_lock(say, "kiosk journey"))
            stop_system_pcscd(say)
        rig = EmulatedHardware(config, workdir / "rig", readers=readers, card_profile=card_profile)
        stack.callback(rig.stop)
        rig.start()
        agent = Agent(config)
        stack.callback(agent.stop)
        agent.start()
        yield Headless(rig, agent)
