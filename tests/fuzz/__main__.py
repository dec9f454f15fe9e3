"""`python -m tests.fuzz [--minutes N] [--target NAME ...] [--seed S]`: the long fuzz run over
every entry point that takes outside bytes (outside CI; `bench/fuzz.py` is its short form).
`--replay FILE --target NAME` runs one saved input and shows what it raises."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.fuzz.runner import classify, fuzz, print_report
from tests.fuzz.targets import all_targets, by_name

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None, *, default_minutes: float = 10.0) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--minutes", type=float, default=default_minutes)
    parser.add_argument("--target", action="append", help="a target name (repeatable)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "fuzz")
    parser.add_argument("--max-memory-mib", type=int, default=2048)
    parser.add_argument("--replay", type=Path)
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    targets = [by_name(n) for n in args.target] if args.target else list(all_targets())
    if args.list:
        for t in targets:
            print(f"{t.name:24} documented: {', '.join(e.__name__ for e in t.documented) or '-'}")
        return 0
    if args.replay is not None:
        if len(targets) != 1:
            parser.error("--replay needs exactly one --target")
        outcome = classify(targets[0], args.replay.read_bytes())
        print(f"{targets[0].name}: {'ok' if outcome.ok else 'FINDING'} ({outcome.what})")
        if not outcome.ok:
            targets[0].run(args.replay.read_bytes())  # raise it again, with its traceback
        return 0 if outcome.ok else 1
    print(f"# seed={args.seed} targets={len(targets)} minutes={args.minutes:g}")
    reports = fuzz(
        targets,
        seconds=args.minutes * 60,
        seed=args.seed,
        out=args.out,
        max_memory_mib=args.max_memory_mib,
    )
    return 0 if print_report(reports) >= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
