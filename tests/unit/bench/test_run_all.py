"""`make bench`'s runner: every bench/*.py is found, run as its own process, and its last
headline checked against its target; one miss, crash or missing headline fails the run."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]
RUNNER = ROOT / "bench" / "run_all.py"


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run_all", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _bench(directory: Path, name: str, body: str) -> None:
    (directory / name).write_text(body, encoding="utf-8")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_parse_takes_the_last_headline_and_every_operator() -> None:
    run_all = _runner()
    out = "figure=x value=1 target>0\nratio=0.5 target>=0.7\nnoise\nratio=0.71 target>=0.7\n"
    h = run_all.parse_headline(out)
    assert (h.value, h.op, h.target, h.met) == (0.71, ">=", 0.7, True)
    assert not run_all.parse_headline("ratio=1.31 target<=1.3").met
    assert run_all.parse_headline("ratio=2.9 target<3").met
    assert not run_all.parse_headline("ratio=0.98 target>0.98").met
    assert run_all.parse_headline("figure=ratio value=1 target>0\n") is None


def test_discovers_every_bench_of_the_repository_and_no_helper() -> None:
    run_all = _runner()
    found = {p.name for p in run_all.discover(ROOT / "bench")}
    expected = {
        p.name
        for p in (ROOT / "bench").glob("*.py")
        if p.name != "run_all.py" and not p.name.startswith("_")
    }
    assert found == expected and "fingerprint.py" in found


def test_table_and_exit_status(tmp_path: Path) -> None:
    _bench(
        tmp_path, "good.py", "print('figure=a value=1 target>0')\nprint('ratio=0.9 target>=0.7')"
    )
    _bench(tmp_path, "slow.py", "print('ratio=1.4 target<=1.3')\n")
    _bench(tmp_path, "crash.py", "print('ratio=1.0 target>=0.5')\nraise SystemExit(3)\n")
    _bench(tmp_path, "mute.py", "print('figure=b value=2 target>0')\n")
    _bench(tmp_path, "_helper.py", "raise SystemExit('a helper module must not be run')\n")
    done = _run("--dir", str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    table = done.stdout[done.stdout.index("bench  "):]
    rows = {line.split()[0]: line for line in table.splitlines()[2:] if line.strip()}
    assert "ok" in rows["good"] and "0.9" in rows["good"] and ">=0.7" in rows["good"]
    assert "MISS" in rows["slow"] and "<=1.3" in rows["slow"]
    assert "FAIL (exit status 3)" in rows["crash"]
    assert "FAIL (no `ratio=" in rows["mute"]
    assert "_helper" not in table and "a helper module" not in done.stdout + done.stderr
    assert "1/4 headlines meet their target; missed: crash, mute, slow" in done.stdout
    # The benches' own output is shown too, before the table.
    assert "figure=a value=1 target>0" in done.stdout


def test_all_met_exits_zero_and_names_select(tmp_path: Path) -> None:
    _bench(tmp_path, "one.py", "print('ratio=1.0 target>=0.7')\n")
    _bench(tmp_path, "two.py", "print('ratio=5 target<=3')\n")
    assert _run("--dir", str(tmp_path), "one").returncode == 0
    assert _run("--dir", str(tmp_path)).returncode == 1
    unknown = _run("--dir", str(tmp_path), "three")
    assert unknown.returncode == 2 and "no such bench: three" in unknown.stderr


def test_a_bench_past_its_time_is_a_failure(tmp_path: Path) -> None:
    _bench(tmp_path, "hang.py", "import time\nprint('ratio=1 target>=0.5')\ntime.sleep(60)")
    done = _run("--dir", str(tmp_path), "--timeout", "1")
    assert done.returncode == 1 and "FAIL (timed out after 1 s)" in done.stdout
