"""A private pcscd with the vpcd reader, kept off the network, and its two emulated slots.

Used by the test fixture (tests/fixtures/pcscd.py) and by `kiosk card emulate --pcscd` (demo).
pcscd runs in its own network namespace (`ip netns`, only loopback), vpcd listens there on
`port` (slot 0) and `port + 1` (slot 1), and the two CardEmulators connect from inside it.
There is one pcscd per machine (its client socket path is fixed), so callers must make sure no
other pcscd runs (`foreign_pcscd()`). Needs root (namespaces) and the Debian packages pcscd,
vsmartcard-vpcd and iproute2.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

from drivers.card.emulator.server import CardEmulator

__all__ = [
    "VPCD_DRIVER",
    "EmulatedReaders",
    "HarnessError",
    "foreign_pcscd",
    "wait_for_readers",
]

_log = logging.getLogger("drivers.card.emulator.harness")

VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
READER_NAMES = ["Virtual PCD 00 00", "Virtual PCD 00 01"]
FRIENDLY_NAME = "Virtual PCD"  # reader.conf FRIENDLYNAME: pcscd adds " 00 00", " 00 01"


class HarnessError(RuntimeError):
    """pcscd or the namespace could not be set up; the message says what to install or stop."""


def foreign_pcscd(own_pid: int | None = None) -> list[tuple[int, str]]:
    """(pid, command line) of every running pcscd except `own_pid`."""
    found: list[tuple[int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == own_pid:
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            if comm != "pcscd":
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        found.append((int(entry.name), cmd))
    return found


def wait_for_readers(count: int, timeout_s: float) -> list[str]:
    """Poll pyscard until at least `count` readers are listed; HarnessError on timeout."""
    from smartcard.System import readers  # vendor import stays inside the emulator harness

    deadline = time.monotonic() + timeout_s
    names: list[str] = []
    while True:
        try:
            names = [str(r) for r in readers()]
        except Exception:
            names = []
        if len(names) >= count:
            return names
        if time.monotonic() > deadline:
            raise HarnessError(f"pcscd listed {names} after {timeout_s}s, expected {count} readers")
        time.sleep(0.05)


class EmulatedReaders:
    """pcscd + vpcd in namespace `netns_name`, with slot 0 (`card`) and slot 1 (`psam`)."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int = 35963,
        netns_name: str = "ssk-vpcd",
        latency_s: float = 0.0,
        silence_s: float = 1.0,
        absent_s: float = 0.6,
        start_timeout_s: float = 10.0,
        isolate: bool = True,
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.netns_name = netns_name
        self.isolate = isolate
        self.start_timeout_s = start_timeout_s
        netns = f"/run/netns/{netns_name}" if isolate else None
        self.card = self._slot(0, netns, latency_s, silence_s, absent_s)
        self.psam = self._slot(1, netns, latency_s, silence_s, absent_s)
        self.reader_names = list(READER_NAMES)
        self.friendly_name = FRIENDLY_NAME
        """The readers' PC/SC name stem; a test may set another (e.g. a production reader's name,
        to show that names prove nothing) and `restart()`; `reader_names` follows it."""
        self.proc: subprocess.Popen[bytes] | None = None
        self.vpcd_loaded = False
        """True while the running pcscd has the vpcd reader configured."""
        self._log_file: IO[bytes] | None = None

    def _slot(
        self, index: int, netns: str | None, latency_s: float, silence_s: float, absent_s: float
    ) -> CardEmulator:
        return CardEmulator(
            "127.0.0.1",
            self.port + index,
            latency_s=latency_s,
            silence_s=silence_s,
            absent_s=absent_s,
            netns=netns,
            name=f"slot{index}",
            reader_name=READER_NAMES[index],
        )

    def slot(self, index: int) -> CardEmulator:
        """Emulator of slot `index` (0 user card, 1 PSAM)."""
        return self.card if index == 0 else self.psam

    @property
    def log_path(self) -> Path:
        """pcscd's own output."""
        return self.workdir / "pcscd.log"

    # -- set-up --------------------------------------------------------------------------------

    def _check_tools(self) -> None:
        for tool, pkg in (("pcscd", "pcscd"), ("ip", "iproute2")):
            if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
                raise HarnessError(
                    f"{tool} is not installed: run `make setup` (Debian package {pkg})"
                )
        if not Path(VPCD_DRIVER).exists():
            raise HarnessError(
                f"{VPCD_DRIVER} missing: run `make setup` (Debian package vsmartcard-vpcd)"
            )

    def _netns(self) -> None:
        if not self.isolate:
            return
        if os.geteuid() != 0:
            raise HarnessError("keeping vpcd off the network needs root (ip netns); run as root")
        subprocess.run(["ip", "netns", "del", self.netns_name], capture_output=True, check=False)
        for cmd in (
            ["ip", "netns", "add", self.netns_name],
            ["ip", "-n", self.netns_name, "link", "set", "lo", "up"],
        ):
            res = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if res.returncode:
                raise HarnessError(f"{' '.join(cmd)} failed: {res.stderr.strip()}")

    def _config_dir(self, with_vpcd: bool) -> Path:
        conf = self.workdir / ("reader.conf.d" if with_vpcd else "reader.conf.d-empty")
        conf.mkdir(parents=True, exist_ok=True)
        if with_vpcd:
            # Normal vpcd mode (see server.py for why not reversed): vpcd listens on port, port+1.
            (conf / "vpcd").write_text(
                f'FRIENDLYNAME "{self.friendly_name}"\n'
                f"DEVICENAME   /dev/null:{self.port}\n"
                f"LIBPATH      {VPCD_DRIVER}\n"
                f"CHANNELID    {self.port}\n"
            )
        return conf

    def start(self) -> None:
        """Namespace, emulators, pcscd; returns when pyscard lists both readers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._check_tools()
        self._netns()
        self.card.start()
        self.psam.start()
        self.start_pcscd(with_vpcd=True)

    def start_pcscd(self, with_vpcd: bool = True) -> None:
        """Start pcscd (with or without the vpcd reader) and wait until it answers."""
        if self.proc is not None:
            return
        conf = self._config_dir(with_vpcd)
        if with_vpcd:
            self.reader_names = [f"{self.friendly_name} 00 0{slot}" for slot in (0, 1)]
        cmd = ["pcscd", "--foreground", "--config", str(conf)]
        if self.isolate:
            cmd = ["ip", "netns", "exec", self.netns_name, *cmd]
        self._log_file = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log_file, stderr=subprocess.STDOUT)
        self.vpcd_loaded = with_vpcd
        _log.info("pcscd started (pid %d, vpcd %s)", self.proc.pid, with_vpcd)
        try:
            wait_for_readers(2 if with_vpcd else 0, self.start_timeout_s)
            if not with_vpcd:
                self._wait_socket()
        except HarnessError as exc:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            self.stop_pcscd()
            raise HarnessError(f"{exc}; pcscd log:\n{tail}") from None

    def _wait_socket(self) -> None:
        from smartcard.scard import (
            SCARD_S_SUCCESS,
            SCARD_SCOPE_USER,
            SCardEstablishContext,
            SCardReleaseContext,
        )

        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            hresult, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
            if hresult == SCARD_S_SUCCESS:
                SCardReleaseContext(ctx)
                return
            time.sleep(0.05)
        raise HarnessError("pcscd did not answer")

    def stop_pcscd(self) -> None:
        """Stop pcscd (SIGTERM, then SIGKILL); the emulators keep their cards."""
        proc, self.proc = self.proc, None
        self.vpcd_loaded = False
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def restart(self, with_vpcd: bool = True) -> None:
        """Stop and start pcscd; the emulators and their cards stay."""
        self.stop_pcscd()
        self.start_pcscd(with_vpcd=with_vpcd)

    def close(self) -> None:
        """Stop everything and delete the namespace."""
        self.stop_pcscd()
        self.card.stop()
        self.psam.stop()
        if self.isolate:
            subprocess.run(
                ["ip", "netns", "del", self.netns_name], capture_output=True, check=False
            )
