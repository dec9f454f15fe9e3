"""The systemd notifier speaks the notify protocol on a real datagram socket."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kiosk.watchdog import SystemdNotifier


def test_notifier_is_silent_outside_systemd() -> None:
    n = SystemdNotifier(environ={})
    assert not n.enabled and n.interval_s is None
    n.ready()
    n.heartbeat()  # nothing to send to, nothing raised


def test_notifier_sends_ready_and_watchdog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    # sdnotify reads the socket path from the process environment.
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    try:
        n = SystemdNotifier(environ={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "30000000"})
        assert n.interval_s == 15.0
        n.ready("journal open")
        n.heartbeat()
        n.stopping()
        got = [sock.recv(1024).decode() for _ in range(3)]
    finally:
        sock.close()
    assert got == ["READY=1\nSTATUS=journal open", "WATCHDOG=1", "STOPPING=1"]
