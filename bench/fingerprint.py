"""Fingerprint driver throughput: commands per second through the driver vs bare os.write/read.

Both sides talk to the same emulator process on a real pty (emulated latency off) in the same
run, interleaved block by block on two descriptors of the same port (which side goes first
alternates), so that other load on the machine hits both alike. The command mix is TempleteNum +
ReadSysPara (14- and 28-byte replies). Each block pair gives one ratio; the headline is their
MEDIAN, so a block hit by a preemption or another process's burst cannot move it (the ratio of
the summed times is printed too, as a figure). CPU time per command of each side (this process
only) is printed as well: unlike wall time it does not depend on the machine's load, and it is
where the driver's cost lies (the round trip through the emulator process is the same).
The driver must not drain its input on a healthy line (only after a timeout or a resync):
`driver_drains` must stay 0.
Headline (printed last): `ratio=<driver rate / raw rate> target>=0.7`.
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

BLOCKS = 400
PAIRS = 20  # command pairs per block and side
FRAMES = ((codec.cmd_template_count(), 14), (codec.cmd_read_sys_para(), 28))


def open_raw(link: str) -> int:
    """A second descriptor on the emulator's pty, raw, at the module's baud rate."""
    fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = termios.B57600
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    return fd


def raw_block(fd: int) -> tuple[float, float]:
    """(wall s, CPU s) for PAIRS command pairs with bare os.write/os.read: the ceiling."""
    cpu = time.process_time()
    start = time.perf_counter()
    for _ in range(PAIRS):
        for frame, reply_len in FRAMES:
            os.write(fd, frame)
            got = 0
            while got < reply_len:
                got += len(os.read(fd, reply_len - got))
    return time.perf_counter() - start, time.process_time() - cpu


def driver_block(drv: FingerprintDriver) -> tuple[float, float]:
    """(wall s, CPU s) for the same pairs through the driver (framing, parsing, checks, typed
    results)."""
    cpu = time.process_time()
    start = time.perf_counter()
    for _ in range(PAIRS):
        drv.template_count()
        drv.read_parameters()
    return time.perf_counter() - start, time.process_time() - cpu


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
            fd = open_raw(link)
            raw_s = drv_s = raw_cpu = drv_cpu = 0.0
            ratios: list[float] = []
            for i in range(BLOCKS):  # alternate which side goes first
                if i % 2:
                    r, d = raw_block(fd), driver_block(drv)
                else:
                    d, r = driver_block(drv), raw_block(fd)
                raw_s += r[0]
                drv_s += d[0]
                raw_cpu += r[1]
                drv_cpu += d[1]
                ratios.append(r[0] / d[0])
            os.close(fd)
            tpl = finger_template("f01")
            n = 100
            start = time.perf_counter()
            for _ in range(n):
                drv.download_template(2, tpl)
                drv.upload_template(2)
            transfer_ms = (time.perf_counter() - start) / (2 * n) * 1000
            start = time.perf_counter()
            for _ in range(50):
                drv.verify(tpl)
            verify_ms = (time.perf_counter() - start) / 50 * 1000
            stats = drv.stats
            drv.stop()
        finally:
            emu.terminate()
            emu.wait(timeout=10)
    commands = 2 * PAIRS * BLOCKS
    print(f"figure=raw_commands_per_s value={commands / raw_s:.0f} target>0")
    print(f"figure=driver_commands_per_s value={commands / drv_s:.0f} target>0")
    print(f"figure=raw_cpu_us_per_command value={raw_cpu / commands * 1e6:.1f} target>0")
    print(f"figure=driver_cpu_us_per_command value={drv_cpu / commands * 1e6:.1f} target>0")
    print(f"figure=ratio_of_summed_times value={raw_s / drv_s:.2f} target>=0.7")
    print(f"figure=driver_retries value={stats.retries} target<1")
    print(f"figure=driver_drains value={stats.drains} target<1")
    print(f"figure=template_transfer_ms value={transfer_ms:.2f} target<100")
    print(f"figure=verify_1to1_ms value={verify_ms:.2f} target<500")
    print(f"ratio={statistics.median(ratios):.2f} target>=0.7")
    return 0


if __name__ == "__main__":
    sys.exit(main())
