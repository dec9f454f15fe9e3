"""Benchmark: a full holder read through `CardDriver` versus a raw pyscard transmit loop of the
very same APDUs, in the same run, through pcscd + vpcd + the card emulator.

Starts its own pcscd the way the test fixture does (drivers.card.emulator.harness), holding the
same lock (/tmp/ssk-pcscd.lock). The driver runs with the packaged [card] settings (deadlines on,
so the I/O thread is measured too) and the emulator with the packaged [card_emulator] settings.
Prints `figure=` lines, then the headline `ratio=` line last.
"""

from __future__ import annotations

import dataclasses
import fcntl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smartcard.CardConnectionObserver import CardConnectionObserver  # noqa: E402
from smartcard.pcsc.PCSCCardConnection import PCSCCardConnection  # noqa: E402

from drivers.card.driver import CardDriver  # noqa: E402
from drivers.card.emulator.harness import EmulatedReaders, foreign_pcscd  # noqa: E402
from kiosk.config import KioskConfig, load_config  # noqa: E402

LOCK_PATH = "/tmp/ssk-pcscd.lock"  # the same lock as tests/fixtures/pcscd.py
DEFAULTS = ROOT / "config" / "kiosk.toml"
ROUNDS = 400  # holder reads per side
SELECTS = 1000  # APDUs for the round-trip figure


class Recorder(CardConnectionObserver):  # type: ignore[misc]
    def __init__(self) -> None:
        self.commands: list[list[int]] = []

    def update(self, observable: object, event: Any) -> None:
        if event.type == "command" and isinstance(event.args[0], list):
            self.commands.append(list(event.args[0]))


def best_of(samples: list[float]) -> float:
    # The median of per-read times resists the odd scheduler hiccup on a 2-core machine.
    return statistics.median(samples)


def main() -> int:
    lock = open(LOCK_PATH, "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        print(f"waiting for {LOCK_PATH}: held by {holder} (one pcscd per machine)", file=sys.stderr)
        fcntl.flock(lock, fcntl.LOCK_EX)
    others = foreign_pcscd()
    if others:
        print(f"a pcscd is already running: {others}; stop it first", file=sys.stderr)
        return 2
    # The packaged defaults (and the terminal's file where one exists); no profile, no environment.
    config = load_config(None, environ={}, defaults=DEFAULTS).config
    emu = config.card_emulator
    with tempfile.TemporaryDirectory() as tmp:
        readers = EmulatedReaders(
            Path(tmp),
            port=emu.port,
            netns_name=emu.netns,
            latency_s=emu.latency_s,
            silence_s=emu.silence_s,
            absent_s=emu.absent_s,
            start_timeout_s=emu.pcscd_start_timeout_s,
            isolate=emu.isolate,
        )
        readers.start()
        try:
            return run(readers, config)
        finally:
            readers.close()
            fcntl.flock(lock, fcntl.LOCK_UN)


def run(readers: EmulatedReaders, config: KioskConfig) -> int:
    reader = readers.reader_names[0]
    readers.card.insert("ssc2")
    settings = dataclasses.replace(config.card.driver_settings(), reader=reader)
    driver = CardDriver(settings)
    driver.wait_for_card()

    session = driver.open()
    raw = PCSCCardConnection(reader)
    raw.connect()  # shared mode: both connections stay open, the reads alternate
    try:
        # The APDUs the driver sends for one holder read (T=0 exchanges included).
        rec = Recorder()
        session.channel.connection.addObserver(rec)
        session.read_holder()
        session.channel.connection.deleteObserver(rec)
        apdus = rec.commands

        def raw_read() -> None:
            for cmd in apdus:
                raw.transmit(cmd)

        for _ in range(20):  # warm-up
            session.read_holder()
            raw_read()
        # Alternate driver and raw reads so that both see the same machine load.
        driver_times: list[float] = []
        raw_times: list[float] = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            session.read_holder()
            t1 = time.perf_counter()
            raw_read()
            t2 = time.perf_counter()
            driver_times.append(t1 - t0)
            raw_times.append(t2 - t1)
        select = [0x00, 0xA4, 0x02, 0x00, 0x02, 0xEF, 0x05]
        t0 = time.perf_counter()
        for _ in range(SELECTS):
            raw.transmit(select)
        round_trip = (time.perf_counter() - t0) / SELECTS
    finally:
        session.close()
        raw.disconnect()
        raw.release()

    drv = best_of(driver_times)
    base = best_of(raw_times)
    print(f"figure=apdus_per_read value={len(apdus)} target<=20")
    print(f"figure=apdu_round_trip_ms value={round_trip * 1000:.3f} target<=0.3")
    print(f"figure=driver_read_ms value={drv * 1000:.3f} target<=5")
    print(f"figure=raw_loop_read_ms value={base * 1000:.3f} target<=5")
    print(f"ratio={drv / base:.3f} target<=1.3")
    return 0


if __name__ == "__main__":
    sys.exit(main())
