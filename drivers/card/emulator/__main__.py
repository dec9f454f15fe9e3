"""`python -m drivers.card.emulator --profile ssc2 [--psam]`: the demo's emulated reader."""

from __future__ import annotations

import argparse
import logging
import sys

from drivers.card.emulator.profiles import list_profiles
from drivers.card.emulator.runner import EmulatorRun, run_foreground


def main(argv: list[str] | None = None) -> int:
    """Parse options, run until Ctrl-C; exit status 1 with a message on failure."""
    parser = argparse.ArgumentParser(prog="python -m drivers.card.emulator")
    parser.add_argument("--profile", default="ssc2", choices=list_profiles())
    parser.add_argument("--slot", type=int, default=0, choices=(0, 1))
    parser.add_argument("--port", type=int, default=35963)
    parser.add_argument("--psam", action="store_true", help="test PSAM in slot 1")
    parser.add_argument("--no-pcscd", action="store_true", help="connect to a running vpcd")
    parser.add_argument("--lenient", action="store_true", help="no 61xx/6Cxx (T=0 lenient)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    run = EmulatorRun(
        profile=args.profile,
        slot=args.slot,
        port=args.port,
        psam=args.psam,
        with_pcscd=not args.no_pcscd,
        t0_strict=not args.lenient,
    )
    try:
        run_foreground(run, print)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"card emulator: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
