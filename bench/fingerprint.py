"""Fingerprint driver throughput: commands per second through the driver vs bare os.write/read.

Both sides talk to the same emulator process on a real pty, emulated latency off, in the same run.
The command mix is TempleteNum + ReadSysPara (14- and 28-byte replies). Headline (printed last):
`ratio=<driver/raw> target>=0.7`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import termios
import time
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.fingerprint import codec  # noqa: E402
from drivers.fingerprint.driver import FingerprintDriver  # noqa: E402
from drivers.fingerprint.emulator import finger_template  # noqa: E402
from drivers.fingerprint.settings import FingerprintSettings  # noqa: E402

ROUNDS = 7
PAIRS = 400  # command pairs per round and side
FRAMES = ((codec.cmd_template_count(), 14), (codec.cmd_read_sys_para(), 28))


def raw_rate(link: str) -> float:
    """Command pairs with bare os.write/os.read on the same pty: the ceiling."""
    fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[4] = attrs[5] = termios.B57600
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        start = time.perf_counter()
        for _ in range(PAIRS):
            for frame, reply_len in FRAMES:
                os.write(fd, frame)
                got = 0
                while got < reply_len:
                    got += len(os.read(fd, reply_len - got))
        return 2 * PAIRS / (time.perf_counter() - start)
    finally:
        os.close(fd)


def driver_rate(drv: FingerprintDriver) -> float:
    """The same command pairs through the driver (framing, parsing, checksum, typed results)."""
    start = time.perf_counter()
    for _ in range(PAIRS):
        drv.template_count()
        drv.read_parameters()
    return 2 * PAIRS / (time.perf_counter() - start)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        link = str(Path(tmp) / "ttyFP0")
        emu = subprocess.Popen(
            [sys.executable, "-m", "drivers.fingerprint.emulator", "--link", link,
             "--finger", "f01", "--latency", "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert emu.stdout is not None
            emu.stdout.readline()  # "fingerprint emulator ... at LINK" once it serves
            drv = FingerprintDriver(FingerprintSettings(port=link, poll_interval=0.0))
            drv.open()
            raw: list[float] = []
            drv_rates: list[float] = []
            for _ in range(ROUNDS):  # interleaved so that drift hits both sides alike
                drv.close()
                raw.append(raw_rate(link))
                drv.open()
                drv_rates.append(driver_rate(drv))
            tpl = finger_template("f01")
            start = time.perf_counter()
            n = 100
            for _ in range(n):
                drv.download_template(2, tpl)
                drv.upload_template(2)
            transfer_ms = (time.perf_counter() - start) / (2 * n) * 1000
            start = time.perf_counter()
            for _ in range(50):
                drv.verify(tpl)
            verify_ms = (time.perf_counter() - start) / 50 * 1000
            drv.stop()
        finally:
            emu.terminate()
            emu.wait(timeout=10)
    # Each round measures raw and driver back to back; the median of the per-round ratios is
    # robust to other load on the machine drifting between rounds.
    ratios = sorted(d / r for d, r in zip(drv_rates, raw, strict=True))
    ratio = ratios[len(ratios) // 2]
    print(f"figure=raw_commands_per_s value={statistics.median(raw):.0f} target>0")
    print(f"figure=driver_commands_per_s value={statistics.median(drv_rates):.0f} target>0")
    print(f"figure=template_transfer_ms value={transfer_ms:.2f} target<100")
    print(f"figure=verify_1to1_ms value={verify_ms:.2f} target<500")
    print(f"ratio={ratio:.2f} target>=0.7")
    return 0


if __name__ == "__main__":
    sys.exit(main())
