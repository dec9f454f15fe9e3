"""`make bench`: run every benchmark in bench/, then print each headline against its target.

Each `bench/*.py` (except this runner and helper modules whose name starts with `_`) runs as a
subprocess of its own, so one bench's threads, sockets or pcscd cannot disturb the next, and
its output is shown as it comes. Its headline is the LAST line of the form
`ratio=R target>=T` (or `>`, `<=`, `<`). A bench that exits non-zero, times out or prints no
headline counts as a miss. Exit status: 0 when every headline meets its target, 1 otherwise.

    python bench/run_all.py [--dir bench] [--timeout S] [NAME ...]
"""

from __future__ import annotations

import argparse
import operator
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Headline", "Outcome", "discover", "main", "parse_headline"]

ROOT = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).resolve()
_HEADLINE = re.compile(
    r"^ratio=(?P<value>[-+0-9.eE]+|nan|inf)\s+target(?P<op>>=|<=|>|<)(?P<target>[-+0-9.eE]+)\s*$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True, slots=True)
class Headline:
    """A bench's headline: its value and the target it must meet."""

    value: float
    op: str
    target: float

    @property
    def met(self) -> bool:
        return _OPS[self.op](self.value, self.target)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one bench gave: its headline, or why there is none."""

    name: str
    headline: Headline | None
    seconds: float
    problem: str = ""

    @property
    def met(self) -> bool:
        return not self.problem and self.headline is not None and self.headline.met


def parse_headline(output: str) -> Headline | None:
    """The last `ratio=… target…` line of a bench's stdout, or None when there is none."""
    found: Headline | None = None
    for line in output.splitlines():
        m = _HEADLINE.match(line.strip())
        if m is not None:
            found = Headline(float(m["value"]), m["op"], float(m["target"]))
    return found


def discover(directory: Path) -> list[Path]:
    """Every bench script in `directory`: `*.py` except this runner and `_helpers.py`."""
    return sorted(
        p
        for p in directory.glob("*.py")
        if not p.name.startswith("_") and p.resolve() != RUNNER
    )


def run_one(script: Path, timeout_s: float) -> Outcome:
    """Run one bench, echoing its output, and read its headline."""
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raw = e.stdout or b""
        out = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        sys.stdout.write(out)
        seconds = time.monotonic() - start
        return Outcome(script.stem, None, seconds, f"timed out after {timeout_s:g} s")
    sys.stdout.write(done.stdout)
    sys.stdout.flush()
    seconds = time.monotonic() - start
    headline = parse_headline(done.stdout)
    if done.returncode != 0:
        return Outcome(script.stem, headline, seconds, f"exit status {done.returncode}")
    if headline is None:
        return Outcome(script.stem, None, seconds, "no `ratio=… target…` headline")
    return Outcome(script.stem, headline, seconds)


def table(outcomes: Sequence[Outcome]) -> str:
    """The summary: one row per bench, its headline, target and verdict."""
    rows = [("bench", "headline", "target", "result", "time")]
    for o in outcomes:
        h = o.headline
        rows.append(
            (
                o.name,
                f"{h.value:g}" if h is not None else "-",
                f"{h.op}{h.target:g}" if h is not None else "-",
                "ok" if o.met else ("MISS" if not o.problem else f"FAIL ({o.problem})"),
                f"{o.seconds:.0f} s",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/run_all.py", description=__doc__.splitlines()[0])
    p.add_argument("--dir", type=Path, default=RUNNER.parent, help="where the bench scripts are")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per bench")
    p.add_argument("names", nargs="*", help="only these benches (file stems)")
    a = p.parse_args(argv)
    scripts = discover(a.dir)
    if a.names:
        unknown = set(a.names) - {s.stem for s in scripts}
        if unknown:
            p.error(f"no such bench: {', '.join(sorted(unknown))}")
        scripts = [s for s in scripts if s.stem in a.names]
    if not scripts:
        print(f"no bench scripts in {a.dir}", file=sys.stderr)
        return 1
    outcomes = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        outcomes.append(run_one(script, a.timeout))
    print()
    print(table(outcomes))
    missed = [o.name for o in outcomes if not o.met]
    print(f"\n{len(outcomes) - len(missed)}/{len(outcomes)} headlines meet their target", end="")
    print(f"; missed: {', '.join(missed)}" if missed else "")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
