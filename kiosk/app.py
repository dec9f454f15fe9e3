"""The composition root: builds every component from the config, in order, and stops them in
the reverse order. Nothing else constructs services, clocks or queues (ARCHITECTURE §1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers.card.driver import CardDriver
from drivers.personal import set_mask_policy
from kiosk.agent import Agent
from kiosk.clock import Clock, SystemClock
from kiosk.config import KioskConfig
from kiosk.device import Device
from kiosk.events import EventQueue

__all__ = ["Component", "KioskApp"]

log = logging.getLogger("kiosk.app")


@dataclass(slots=True)
class Component:
    """A started part of the kiosk with its stop action."""

    name: str
    stop: Callable[[], None]


class KioskApp:
    """Ordered `init_*` / `start` steps and a mirrored `stop()`.

    Each step runs inside its own try/except: a device that fails to start is reported and the
    kiosk degrades, instead of one component stopping all the others (Klipper's rule).
    """

    def __init__(
        self, config: KioskConfig, *, clock: Clock | None = None, queue: EventQueue | None = None
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.queue = queue or EventQueue()
        self._components: list[Component] = []
        self.failed: dict[str, str] = {}
        self.agent: Agent | None = None
        # Devices started by the init steps; the agent reports their health in telemetry.
        self.devices: list[Device] = []

    def init_privacy(self) -> None:
        """Apply the configured masks to every personal value shown or logged."""
        set_mask_policy(self.config.privacy.mask_policy())

    def init_card_reader(self) -> CardDriver:
        """The card reader as device `card_reader`: its monitor thread posts `ReaderAdded`,
        `CardInserted`, `CardRemoved` and `DeviceHealthChanged` to the core queue. A missing
        pcscd or reader shows as health (offline, no_device), never as a failed start."""
        driver = CardDriver(self.config.card.driver_settings(), sink=self.queue.post)

        def start() -> Callable[[], None]:
            driver.start()
            self.devices.append(driver)

            def stop() -> None:
                driver.stop()
                self.devices.remove(driver)

            return stop

        self.add("card_reader", start)
        return driver

    def init_agent(self, **kwargs: Any) -> Agent:
        """The headless core (journal, sync, telemetry, remote commands) as component `agent`.

        Not part of `start()`: the composition root calls it when the terminal syncs (`kiosk
        agent`, the UI app); `kwargs` go to `Agent` (config_path, profile, health...).
        """
        kwargs.setdefault("health", self.device_health)
        agent = Agent(self.config, clock=self.clock, queue=self.queue, **kwargs)
        self.agent = agent

        def start() -> Callable[[], None]:
            agent.start()
            return agent.stop

        self.add("agent", start)
        return agent

    def device_health(self) -> dict[str, str]:
        """Device name → DeviceHealth value of every started device (any thread)."""
        return {d.name: d.health.value for d in list(self.devices)}

    def add(self, name: str, start: Callable[[], Callable[[], None]]) -> bool:
        """Run `start` (which returns the stop action); on failure record it and carry on."""
        try:
            stop = start()
        except Exception as e:  # one failing component must not stop the others
            log.exception("component %s failed to start", name)
            self.failed[name] = f"{type(e).__name__}: {e}"
            return False
        self._components.append(Component(name, stop))
        return True

    def start(self) -> None:
        """Start every component in order."""
        self.init_privacy()
        self.init_card_reader()

    def stop(self) -> None:
        """Stop components in reverse start order; each stop runs even if another failed."""
        while self._components:
            comp = self._components.pop()
            try:
                comp.stop()
            except Exception:
                log.exception("component %s failed to stop", comp.name)
