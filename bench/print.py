"""Receipt printing: seconds to print an insured certificate at 115200 baud through the driver,
beside the raw line time of the same bytes in the same run.

The emulated printer sits on a real pty and takes bytes no faster than a 115200-baud line
carries them (10 bits a byte), as a printer holding the host back with flow control does. The
driver side is the whole `print_parts`: status before, the document in slices with a DLE EOT
status query between them, status after. The raw side writes the same bytes on a bare
descriptor and asks one status at the end (so both sides wait for the printer to have taken
everything). Runs alternate; the headline is the median of the per-pair ratios.
Headline (printed last): `ratio=<driver seconds / raw seconds> target<=1.2`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import termios
import time
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.printer.driver import PrinterDriver, PrinterSettings  # noqa: E402
from drivers.printer.emulator import FakePrinter, make_emulator  # noqa: E402
from drivers.printer.encode import encode_parts  # noqa: E402
from drivers.printer.status import query  # noqa: E402
from kiosk.documents import render_document  # noqa: E402
from kiosk.documents.samples import sample_data  # noqa: E402

BAUD = 115200
PAIRS = 8


def raw_print(fd: int, data: bytes) -> float:
    start = time.perf_counter()
    view = memoryview(data + query(1))
    while view:
        view = view[os.write(fd, view) :]
    if not os.read(fd, 1):
        raise RuntimeError("the printer did not answer")
    return time.perf_counter() - start


def main() -> None:
    doc = render_document("insured_certificate", sample_data("insured_certificate"))
    parts = encode_parts(doc)
    data = b"".join(parts)
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / "ttyPRN0"
        emulator = make_emulator(link, baudrate=BAUD, pace=True).start()
        assert isinstance(emulator.handler, FakePrinter)
        driver = PrinterDriver(PrinterSettings(port=str(link), baudrate=BAUD))
        driver.open()
        fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[4] = attrs[5] = termios.B115200
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        ratios, drv_times, raw_times = [], [], []
        try:
            for i in range(PAIRS):
                if i % 2:
                    raw = raw_print(fd, data)
                    drv = driver.print_parts(parts).seconds
                else:
                    drv = driver.print_parts(parts).seconds
                    raw = raw_print(fd, data)
                drv_times.append(drv)
                raw_times.append(raw)
                ratios.append(drv / raw)
            printed = len(emulator.handler.receipts)
        finally:
            os.close(fd)
            driver.close()
            emulator.stop()
    line_time = len(data) * 10 / BAUD
    print(f"figure=certificate_bytes value={len(data)}")
    print(f"figure=line_time_s value={line_time:.3f}")
    print(f"figure=raw_print_s value={statistics.median(raw_times):.3f}")
    print(f"figure=driver_print_s value={statistics.median(drv_times):.3f}")
    print(f"figure=receipts_cut value={printed}")
    print(f"ratio={statistics.median(ratios):.3f} target<=1.2")


if __name__ == "__main__":
    main()
