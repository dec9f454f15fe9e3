"""`python -m drivers.fingerprint.emulator --link PATH`: an emulated module in the foreground."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from drivers.fingerprint.emulator import PROFILES, make_emulator
from drivers.fingerprint.emulator.fingers import finger_template

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Parse options, serve until SIGINT/SIGTERM; `--write-template` only writes a file."""
    parser = argparse.ArgumentParser(
        prog="python -m drivers.fingerprint.emulator",
        description="Emulated ZhianTec/Synochip fingerprint module on a pseudo-terminal.",
    )
    parser.add_argument("--link", help="symlink path the driver opens, e.g. /tmp/fp/ttyFP0")
    parser.add_argument("--profile", default="r307", choices=sorted(PROFILES))
    parser.add_argument(
        "--finger", default=None, help="finger a cooperative person places, e.g. f01"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="latency scale (0 = off, 1 = real)"
    )
    parser.add_argument("--baud", type=int, default=57600, help="module baud rate")
    parser.add_argument("--password", type=lambda s: int(s, 0), default=0)
    parser.add_argument(
        "--write-template", metavar="FINGER", help="write FINGER's template and exit"
    )
    parser.add_argument("--out", help="output file for --write-template")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    if args.write_template:
        size = PROFILES[args.profile].template_size
        Path(args.out or f"{args.write_template}.tpl").write_bytes(
            finger_template(args.write_template, size)
        )
        return 0
    if not args.link:
        parser.error("--link is required")

    emulator = make_emulator(
        args.link,
        profile=args.profile,
        finger=args.finger,
        latency_scale=args.latency,
        baudrate=args.baud,
        password=args.password,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    emulator.start()
    print(f"fingerprint emulator ({args.profile}) at {args.link} -> {emulator.device}", flush=True)
    try:
        done.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
