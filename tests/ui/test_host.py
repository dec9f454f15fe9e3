"""The process around the app: the watchdog fed from the Kivy loop only while the core beats,
an invalid config shown as out of service (no crash loop), Kivy only inside `kiosk ui`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kiosk.watchdog import SystemdNotifier
from ui.host import GatedWatchdog, out_of_service_view

ROOT = Path(__file__).resolve().parents[2]


def _notify_socket(tmp_path: Path) -> tuple[socket.socket, dict[str, str]]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.5)
    return sock, {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000",
                  "WATCHDOG_PID": str(os.getpid())}


def _received(sock: socket.socket) -> list[str]:
    got = []
    while True:
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            return got


def test_watchdog_is_fed_only_while_the_core_beats(tmp_path: Path, monkeypatch: Any) -> None:
    sock, env = _notify_socket(tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    notifier = SystemdNotifier()
    age = [0.2]
    feed = GatedWatchdog(notifier, lambda: age[0], stale_s=5.0)
    feed()
    assert _received(sock) == ["WATCHDOG=1"]
    age[0] = 30.0  # the core's loop hung: systemd must restart the service
    feed()
    feed()
    assert _received(sock) == [] and feed.withheld == 2


def test_the_kivy_loop_calls_the_watchdog(ui_driver: Any) -> None:
    beats: list[float] = []
    from kivy.clock import Clock

    event = Clock.schedule_interval(lambda _dt: beats.append(time.monotonic()), 0.01)
    try:
        for _ in range(5):
            ui_driver.pump(1)
            time.sleep(0.02)
    finally:
        event.cancel()
    assert beats, "the heartbeat comes from the UI loop: a hung loop stops it"


def test_out_of_service_view_shows_the_reason_in_both_languages(ui_driver: Any) -> None:
    app = ui_driver.app
    for lang, words in (("zh_CN", "暂停服务"), ("en", "Out of service")):
        app.show(out_of_service_view("terminal.id: bad value", lang))
        ui_driver.pump(3)
        assert app.sm.current == "out_of_service"
        shown = ui_driver.shown_text()
        assert words in shown and "terminal.id: bad value" in shown


def test_an_invalid_config_keeps_the_app_up_on_the_out_of_service_screen(tmp_path: Path) -> None:
    bad = tmp_path / "kiosk.toml"
    bad.write_text('[terminal]\nid = "!!"\n')
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", KIOSK_NO_CONFIG_FILE="",
               KIVY_HOME=str(tmp_path / "kivy"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli.main", "--config", str(bad), "ui", "--offscreen"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(8)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
    finally:
        proc.terminate()  # systemd's stop: the app ends cleanly although it refuses closing
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, out
    assert "showing out of service" in out and "terminal.id" in out, out


def test_kiosk_does_not_import_kivy_until_the_ui_starts() -> None:
    code = ("import sys, kiosk.cli.main, kiosk.app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kivy', 'ui')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    # the touchscreen's commands are registered (ui/cli.py, through the entry point group);
    # nothing of Kivy, nor the app, is loaded until one of them runs
    assert out.stdout.strip() == "['ui', 'ui.cli']", out.stdout
