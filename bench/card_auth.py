"""Benchmark: a 3rd-generation holder read with PSAM mutual authentication (internal
authentication + RKSSSE, SM4) versus the same card's plain EF05 read plus a 2nd-generation-style
unauthenticated holder read, in the same run, through pcscd + vpcd + the card emulator.

The baseline is the read a terminal without security would do (ssc2, no PSAM); the headline is
what PSAM authentication costs on top. Starts its own pcscd the way the test fixture does,
holding the same lock (/tmp/ssk-pcscd.lock). Prints `figure=` lines, then `ratio=` last.
"""

from __future__ import annotations

import fcntl
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.card import reader as pcsc  # noqa: E402
from drivers.card.crypto import Algorithm  # noqa: E402
from drivers.card.cryptogram import (  # noqa: E402
    PsamCryptogramProvider,
    SoftwareCryptogramProvider,
)
from drivers.card.emulator import load_key_set  # noqa: E402
from drivers.card.emulator.harness import EmulatedReaders, foreign_pcscd  # noqa: E402
from drivers.card.psam import KeyUsage, PsamClient  # noqa: E402
from drivers.card.security import make_security_hook  # noqa: E402
from drivers.card.settings import CardSettings  # noqa: E402
from drivers.card.ssc import SscApplication  # noqa: E402
from drivers.card.transport import PcscChannel  # noqa: E402

LOCK_PATH = "/tmp/ssk-pcscd.lock"  # the same lock as tests/fixtures/pcscd.py
ROUNDS = 150  # holder reads per side
CRYPTOGRAMS = 300


def main() -> int:
    lock = open(LOCK_PATH, "a+")  # noqa: SIM115 - held for the whole run
    fcntl.flock(lock, fcntl.LOCK_EX)
    others = foreign_pcscd()
    if others:
        print(f"a pcscd is already running: {others}; stop it first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        readers = EmulatedReaders(Path(tmp))
        readers.start()
        try:
            return run(readers)
        finally:
            readers.close()
            fcntl.flock(lock, fcntl.LOCK_UN)


def run(readers: EmulatedReaders) -> int:
    card_reader, psam_reader = readers.reader_names
    settings = CardSettings(insert_timeout_s=10.0)
    readers.psam.insert("psam")
    pcsc.wait_for_card(psam_reader, 10.0)
    psam_channel = pcsc.connect(psam_reader, settings)
    psam = PsamClient(psam_channel)
    provider = PsamCryptogramProvider(psam)
    masters = load_key_set("test").masters["sm4"]
    software = SoftwareCryptogramProvider(
        {(u, Algorithm.SM4): bytes.fromhex(masters[u.name.lower()]) for u in KeyUsage}
    )

    def open_card(profile: str) -> tuple[PcscChannel, SscApplication]:
        readers.card.insert(profile)
        pcsc.wait_for_card(card_reader, 10.0)
        channel = pcsc.connect(card_reader, settings)
        return channel, SscApplication(channel)

    try:
        plain_channel, plain = open_card("ssc2")
        plain_times = []
        for _ in range(10):
            plain.read_holder()
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            plain.read_holder()
            plain_times.append(time.perf_counter() - t0)
        plain_channel.close()
        readers.card.remove()
        while pcsc.card_present(card_reader):  # until pcscd has seen the card leave
            time.sleep(0.05)
        auth_channel, secure = open_card("ssc3")
        secure.security_hook = make_security_hook(provider)
        auth_times = []
        for _ in range(10):
            secure.read_holder()
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            secure.read_holder()
            auth_times.append(time.perf_counter() - t0)
        auth_channel.close()
        factor, data = os.urandom(8), os.urandom(8)
        t0 = time.perf_counter()
        for _ in range(CRYPTOGRAMS):
            provider.cryptogram(
                usage=KeyUsage.RKSSSE, algorithm=Algorithm.SM4, card_factor=factor, data=data
            )
        psam_ms = (time.perf_counter() - t0) / CRYPTOGRAMS * 1000
        t0 = time.perf_counter()
        for _ in range(CRYPTOGRAMS):
            software.cryptogram(
                usage=KeyUsage.RKSSSE, algorithm=Algorithm.SM4, card_factor=factor, data=data
            )
        soft_ms = (time.perf_counter() - t0) / CRYPTOGRAMS * 1000
    finally:
        psam_channel.close()
    auth = statistics.median(auth_times)
    base = statistics.median(plain_times)
    print(f"figure=psam_cryptogram_ms value={psam_ms:.3f} target<=2")
    print(f"figure=software_cryptogram_ms value={soft_ms:.3f} target<=0.5")
    print(f"figure=plain_read_ms value={base * 1000:.3f} target<=5")
    print(f"figure=authenticated_read_ms value={auth * 1000:.3f} target<=10")
    print(f"ratio={auth / base:.3f} target<=3")
    return 0


if __name__ == "__main__":
    sys.exit(main())
