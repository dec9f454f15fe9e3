"""What the two test cores behind the UI share (tests/ui/conftest.py `RunnerCore` on fake
ports, tests/ui/real_stack.py `LiveCore` on the real ones): the app's view of a session runner,
as ui/host.py's `Core` protocol asks."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.session.runner import SessionRunner
from kiosk.session.view import View


class RunnerView:
    """Views and readiness from `self.runner`; the subclass says how intents go in."""

    runner: SessionRunner

    def subscribe(self, callback: Callable[[View], None]) -> Callable[[], None]:
        unsubscribe = self.runner.subscribe(callback)
        callback(self.runner.view)
        return unsubscribe

    @property
    def view(self) -> View:
        return self.runner.view

    def wait_idle(self, timeout: float) -> bool:
        return self.runner.wait_idle(timeout)

    def heartbeat_age(self) -> float:
        return 0.0  # the tests' cores have no heartbeat thread: never stale
