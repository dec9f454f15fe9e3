"""One Kivy app for all UI tests (Kivy has one window per process), on SDL offscreen at the
configured panel size and DPI; each test connects it to a fresh session runner."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.clock import FakeClock
from kiosk.config.ui import UiConfig
from kiosk.session.runner import SessionRunner
from tests.ui.runner_view import RunnerView
from tests.unit.session.fakes import FakePorts, make_policy
from ui.i18n import UI_LOCALE
from ui.runtime import start_kivy

UI_CFG = UiConfig.model_validate({"fullscreen": False, "voice": True})
KIVY_HOME = Path(tempfile.mkdtemp(prefix="kiosk-ui-tests-"))

# Kivy reads its settings at import: configure it before pytest imports the test modules here.
start_kivy(UI_CFG, offscreen=True, home=KIVY_HOME)


class ThreadSafeClock(FakeClock):
    """The injected clock of the runner's threads; tests move it to reach time limits."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return super().monotonic()

    def advance(self, seconds: float) -> None:
        with self._lock:
            super().advance(seconds)


class RunnerCore(RunnerView):
    """The real session machine and runner behind the UI, its devices answered by FakePorts."""

    def __init__(self, ports: FakePorts | None = None, **session: Any) -> None:
        self.clock = ThreadSafeClock()
        self.ports = ports or FakePorts()
        self.runner = SessionRunner(make_policy(**session), self.ports.bundle(), self.clock,
                                    tick_s=0.05).start()
        self.preview: Any = None

    def send(self, intent: Any) -> None:
        self.runner.post(intent)

    post = send

    def stop(self) -> None:
        self.runner.stop()


@pytest.fixture(scope="session")
def ui_driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    missing = [p for p in ("zh_CN", "en") if not (UI_LOCALE / p / "LC_MESSAGES" / "ui.mo").exists()]
    if missing:
        pytest.fail(f"ui catalogs not compiled for {missing}: run scripts/compile-catalogs.sh")
    home = tmp_path_factory.mktemp("voice")
    from ui.runtime import build_app, start_embedded
    from ui.voice import Voice

    voice = Voice(enabled=True, volume=70, workdir=Path(home))
    from tests.ui.driver import Driver

    holder: dict[str, Any] = {}

    class Port:
        def send(self, intent: Any) -> None:
            holder["core"].send(intent)

    app = build_app(UI_CFG, Port(), voice=voice)
    pump = start_embedded(app)
    driver = Driver(app, pump)
    driver.holder = holder  # type: ignore[attr-defined]
    yield driver
    app.dispatch("on_stop")


@pytest.fixture
def ui(ui_driver: Any) -> Iterator[Any]:
    """The app connected to a fresh session (FakePorts answer like a healthy terminal)."""
    yield from connect(ui_driver)


def connect(driver: Any, core: Any = None) -> Generator[Any, None, None]:
    """Connect the app to `core` (a RunnerCore on FakePorts by default, or a live terminal)."""
    core = core or RunnerCore()
    driver.holder["core"] = core
    driver.core = core
    driver.taps = 0
    unsubscribe = core.subscribe(driver.app.bridge.post)
    driver.settle()
    try:
        yield driver
    finally:
        unsubscribe()
        core.stop()
        driver.core = None


# The real app over the real core (tests/ui/test_real_stack*.py): `open_live`, `live`.
from tests.ui.real_stack import live, open_live  # noqa: E402, F401
