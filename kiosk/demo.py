"""The demo: the whole kiosk on emulated hardware, with a local broker and central system.

`make demo` runs this. Until the touch UI exists it shows, step by step, what a terminal does:
reads the emulated social security card through the real pcscd (PSAM-authenticated, the
holder's photo included), checks the face against that photo on a generated camera stream and
the finger on the emulated scanner, runs three citizen journeys headless through the session
(a query, a utility payment and a medical insurance account activation, from
config/journeys/, each screen printed masked), then runs the kiosk agent connected to the
central system, whose fleet monitor page shows the terminal live. Everything it starts, it
stops on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.card.emulator import read_profile
from drivers.card.emulator.harness import EmulatedReaders
from kiosk.config.loader import PROJECT_DIR, load_config
from kiosk.journeys.rig import HardwareError, reader_lock, stop_system_pcscd

__all__ = ["DEMO_JOURNEYS", "DemoError", "DemoOptions", "run_demo"]

DEMO_JOURNEYS = ("query", "payment", "activation")

Say = Callable[[str], None]


class DemoError(RuntimeError):
    """The demo cannot start; the message says what to do."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What the demo runs. `once`: run every step, then stop (used by the tests)."""

    profile: str = "ssc3"
    once: bool = False
    state_dir: Path = PROJECT_DIR / "var" / "demo"
    broker_port: int = 1883
    monitor_port: int = 8080
    # Runs one journey instead of `run_journey` (same arguments): `kiosk demo-screens` shows
    # each journey on the touchscreen (ui/cli.py); kiosk itself never imports the UI.
    journey_runner: Callable[..., Any] | None = None


@dataclass
class _Running:
    """Processes and devices started so far, stopped in reverse order."""

    stops: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def add(self, name: str, stop: Callable[[], None]) -> None:
        self.stops.append((name, stop))

    def stop_all(self, say: Say) -> None:
        while self.stops:
            name, stop = self.stops.pop()
            try:
                stop()
            except Exception as e:  # keep stopping the rest
                say(f"  (stopping {name} failed: {e})")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port(preferred: int) -> int:
    if _port_free(preferred):
        return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, ready: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise DemoError(f"{what} did not come up within {timeout_s:.0f} s")
        time.sleep(0.1)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _spawn(
    name: str, argv: list[str], running: _Running, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a process logging to `log`; registered to be stopped with the demo."""
    out = log.open("ab")
    proc = subprocess.Popen(argv, env=env, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT)

    def stop() -> None:
        _terminate(proc)
        out.close()

    running.add(name, stop)
    return proc


@contextlib.contextmanager
def _reader_lock(say: Say) -> Iterator[None]:
    """The machine-wide lock of the one pcscd (tests, `kiosk journey` and `kiosk card emulate`
    take it too)."""
    try:
        with reader_lock(say, "kiosk demo"):
            yield
    except HardwareError as e:
        raise DemoError(str(e)) from None


def _stop_system_pcscd(say: Say) -> None:
    """The emulated reader needs the machine's only pcscd."""
    try:
        stop_system_pcscd(say)
    except HardwareError as e:
        raise DemoError(str(e)) from None


def _kiosk(args: list[str], env: dict[str, str], say: Say) -> None:
    """Run one `kiosk ...` command, showing its output indented."""
    say(f"  $ kiosk {' '.join(args)}")
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", *args],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for line in (result.stdout + result.stderr).splitlines():
        if " DEBUG " in line or " INFO " in line:
            continue  # the demo shows results, not logs
        say(f"    {line}")
    if result.returncode != 0:
        raise DemoError(f"`kiosk {' '.join(args)}` failed with exit status {result.returncode}")


def _start_broker(opts: DemoOptions, running: _Running, say: Say) -> int:
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(mosquitto).exists():
        raise DemoError("mosquitto is not installed: run `make setup`")
    port = _free_port(opts.broker_port)
    workdir = opts.state_dir / "mosquitto"
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {workdir}/\nlog_dest file {workdir}/mosquitto.log\n"
        + ("user root\n" if os.geteuid() == 0 else "")
    )
    _spawn("broker", [mosquitto, "-c", str(conf)], running, workdir / "stdout.log")
    _wait("the MQTT broker", lambda: _listening(port), 10)
    say(f"  broker: mosquitto on 127.0.0.1:{port}")
    return port


def _start_central(opts: DemoOptions, broker_port: int, running: _Running, say: Say) -> str:
    http_port = _free_port(opts.monitor_port)
    # A fresh data set every run: the journeys pay a bill and activate a card, and the next
    # demo must find them unpaid and not activated again (the seed is deterministic).
    (opts.state_dir / "central.db").unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "CENTRAL__BROKER__PORT": str(broker_port),
            "CENTRAL__STORAGE__URL": f"sqlite:///{opts.state_dir / 'central.db'}",
            "CENTRAL__FLEET__HTTP_PORT": str(http_port),
            "CENTRAL__SEED__PERSONS": "300",
        }
    )
    argv = [sys.executable, "-m", "central.cli", "run"]
    proc = _spawn("central", argv, running, opts.state_dir / "central.log", env)
    url = f"http://127.0.0.1:{http_port}"
    _wait(
        "the central system", lambda: _http_ok(url + "/api/health") or proc.poll() is not None, 60
    )
    if proc.poll() is not None:
        raise DemoError(f"the central system stopped; see {opts.state_dir / 'central.log'}")
    say(f"  central system: seeded, RPC workers up; fleet monitor at {url}/")
    return url


def _start_fingerprint(opts: DemoOptions, finger: str, running: _Running, say: Say) -> Path:
    link = opts.state_dir / "ttyFP0"
    argv = [sys.executable, "-m", "drivers.fingerprint.emulator", "--link", str(link)]
    _spawn("fingerprint emulator", [*argv, "--finger", finger], running, opts.state_dir / "fp.log")
    _wait("the fingerprint emulator", link.exists, 10)
    say(f"  fingerprint scanner: emulated module on {link} (finger {finger} on the window)")
    return link


def _terminal_online(monitor_url: str, terminal_id: str) -> bool:
    try:
        with urllib.request.urlopen(f"{monitor_url}/api/terminals/{terminal_id}", timeout=1) as r:
            return b'"online"' in r.read()
    except OSError:
        return False


def _journeys(readers: EmulatedReaders, env: dict[str, str], state_dir: Path, say: Say,
              runner: Callable[..., Any] | None = None) -> None:
    """The demo's citizen journeys, in this process on its emulated reader (which it owns)."""
    from kiosk.journeys.headless import headless_kiosk
    from kiosk.journeys.live import run_journey
    from kiosk.journeys.spec import load_journey

    environ = {k: v for k, v in env.items() if k.startswith("KIOSK")}
    config = load_config(profile="demo", environ=environ).config
    with headless_kiosk(config, state_dir / "journeys", say=say, readers=readers) as kiosk:
        if not kiosk.wait_online(20):
            raise DemoError("the kiosk did not reach the broker for the journeys")
        for name in DEMO_JOURNEYS:
            journey = load_journey(name)
            say(f"  journey {name}: {journey.description}")
            result = (runner or run_journey)(
                journey, kiosk.hardware, kiosk.backend, say=lambda t: say("  " + t)
            )
            for problem in [p for st in result.steps for p in st.problems] + result.problems:
                say(f"    mismatch: {problem}")
            say(f"  journey {name}: result={'pass' if result.ok else 'fail'}")
            if not result.ok:
                raise DemoError(f"journey {name} did not go as config/journeys/{name}.toml says")


def run_demo(opts: DemoOptions, say: Say = print) -> int:
    """Run the demo; returns the exit status. Raises DemoError with a plain message."""
    if os.geteuid() != 0:
        raise DemoError(
            "the demo keeps the emulated reader off the network in a namespace: run it as root"
        )
    opts.state_dir.mkdir(parents=True, exist_ok=True)
    profile = read_profile(opts.profile)
    finger = str(getattr(profile, "demo_finger", "f01"))
    running = _Running()
    with _reader_lock(say):
        try:
            say("1/7 starting the broker and the central system")
            broker_port = _start_broker(opts, running, say)
            monitor_url = _start_central(opts, broker_port, running, say)

            say(f"2/7 inserting the emulated card ({opts.profile}) and the PSAM into the reader")
            _stop_system_pcscd(say)
            readers = EmulatedReaders(opts.state_dir / "pcscd")
            running.add("card reader", readers.close)
            readers.start()
            readers.card.insert(opts.profile)
            readers.psam.insert("psam")
            for name in readers.reader_names:
                say(f"  reader: {name}")
            fp_link = _start_fingerprint(opts, finger, running, say)

            env = dict(os.environ)
            env.update(
                {
                    "KIOSK_PROFILE": "demo",
                    "KIOSK__MQTT__PORT": str(broker_port),
                    "KIOSK__FINGERPRINT__PORT": str(fp_link),
                    "KIOSK__TERMINAL__STATE_DIR": str(opts.state_dir / "kiosk"),
                }
            )
            photo = opts.state_dir / "holder-photo.jpg"
            say("3/7 reading the card (masked, as on every screen and log)")
            try:
                _kiosk(["card", "read", "--photo", str(photo)], env, say)
                say("4/7 checking the face against the card's photo (generated camera stream)")
                source = "synthetic:turn-left+look-up+turn-right"
                _kiosk(["face", "verify", "--reference", str(photo), "--source", source], env, say)
            finally:
                photo.unlink(missing_ok=True)  # biometric data lives only as long as the check

            say("5/7 checking the finger against the holder's reference from the central system")
            # The reference template travels over RPC into the scanner's RAM, never to a file
            # (kiosk/services/fingerprint.py).
            _kiosk(["fingerprint", "check"], env, say)

            say("6/7 citizen journeys through the session: a query, a payment, an activation")
            _journeys(readers, env, opts.state_dir, say, opts.journey_runner)

            say("7/7 starting the kiosk agent (journal, MQTT sync, telemetry, remote commands)")
            argv = [sys.executable, "-m", "kiosk.cli.main", "agent"]
            agent = _spawn("agent", argv, running, opts.state_dir / "agent.log", env)
            terminal_id = load_config(profile="demo", environ={}).config.terminal.id
            _wait(
                "the terminal in the fleet monitor",
                lambda: _terminal_online(monitor_url, terminal_id),
                30,
            )
            say(f"  terminal {terminal_id} is online in the fleet monitor: {monitor_url}/")
            if opts.once:
                say("demo complete")
                return 0
            say("The kiosk runs. Open the fleet monitor in a browser; Ctrl-C stops everything.")
            with contextlib.suppress(KeyboardInterrupt):
                while agent.poll() is None:
                    time.sleep(0.5)
            return 0
        finally:
            say("stopping the demo")
            running.stop_all(say)
