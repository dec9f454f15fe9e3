"""The long fuzz run: every target in turn for its share of the time, each input under a wall
clock alarm and the process under an address-space limit, so a hang or a huge allocation is a
finding too. Prints `figure=` lines and, last, the headline `ratio=<share of inputs that ended
in success or a documented error> target>=1`; writes each finding's input for `--replay`."""

from __future__ import annotations

import hashlib
import logging
import random
import resource
import signal
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from tests.fuzz.mutate import mutate
from tests.fuzz.target import Target

__all__ = ["Outcome", "TargetReport", "classify", "fuzz"]

INPUT_TIMEOUT_S = 10.0  # one input; a bounded entry point answers in milliseconds
MAX_INPUT_MS = 500.0  # the figure's target for the slowest input


class _InputTimeout(BaseException):
    """Raised by the alarm inside a target that did not return in time."""


@dataclass
class TargetReport:
    name: str
    inputs: int = 0
    typed: int = 0  # success or a documented error
    max_input_ms: float = 0.0
    findings: Counter[str] = field(default_factory=Counter)
    saved: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    what: str  # "success", the documented error's name, or the finding


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise _InputTimeout


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def classify(target: Target, data: bytes, timeout_s: float = INPUT_TIMEOUT_S) -> Outcome:
    """Run one input; never raises (a timeout, a MemoryError or any other escape is a finding)."""
    try:
        with _deadline(timeout_s):
            target.run(data)
    except _InputTimeout:
        return Outcome(False, f"timeout>{timeout_s:g}s")
    except target.documented as e:
        return Outcome(True, type(e).__name__)
    except Exception as e:
        tb = traceback.extract_tb(e.__traceback__)
        where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
        return Outcome(False, f"{type(e).__name__} at {where}")
    except MemoryError:
        return Outcome(False, "MemoryError")
    return Outcome(True, "success")


def _save(out: Path, target: Target, data: bytes) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{target.name}-{hashlib.sha1(data).hexdigest()[:12]}.bin"
    path.write_bytes(data)
    return path


def fuzz(
    targets: Sequence[Target],
    *,
    seconds: float,
    seed: int,
    out: Path,
    max_memory_mib: int,
) -> list[TargetReport]:
    """Fuzz every target for `seconds / len(targets)`; returns one report per target."""
    logging.disable(logging.CRITICAL)  # the guards log every rejection: millions of lines
    limit = max_memory_mib * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    reports = []
    try:
        for index, target in enumerate(targets):
            rng = random.Random(seed * 1000 + index)
            report = TargetReport(target.name)
            end = time.monotonic() + seconds / len(targets)
            while time.monotonic() < end:
                data = mutate(rng, target.seeds, target.tokens)
                started = time.perf_counter()
                outcome = classify(target, data)
                report.max_input_ms = max(
                    report.max_input_ms, (time.perf_counter() - started) * 1000
                )
                report.inputs += 1
                if outcome.ok:
                    report.typed += 1
                else:
                    if outcome.what not in report.findings:
                        report.saved.append(_save(out, target, data))
                    report.findings[outcome.what] += 1
            reports.append(report)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        logging.disable(logging.NOTSET)
    return reports


def print_report(reports: Sequence[TargetReport]) -> float:
    """Figure lines per target, the findings, and the headline last; returns the ratio."""
    inputs = sum(r.inputs for r in reports)
    typed = sum(r.typed for r in reports)
    for r in reports:
        slug = r.name.replace(".", "_")
        print(f"figure=fuzz_{slug}_inputs value={r.inputs} target>0")
        print(f"figure=fuzz_{slug}_escapes value={r.inputs - r.typed} target<1")
        print(f"figure=fuzz_{slug}_max_input_ms value={r.max_input_ms:.1f} target<{MAX_INPUT_MS:g}")
        for what, count in r.findings.most_common():
            print(f"# {r.name}: {count} x {what}")
        for path in r.saved:
            print(f"# replay: python -m tests.fuzz --target {r.name} --replay {path}")
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"figure=fuzz_peak_rss_mib value={rss_mib:.0f} target<1024")
    ratio = typed / inputs if inputs else 0.0
    print(f"ratio={ratio:.6f} target>=1")
    return ratio
