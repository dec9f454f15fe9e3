"""The activation saga killed between each pair of steps finishes or compensates on restart.

The kiosk runs as a subprocess (saga_child) with a file-backed card here (fast, and against the
real central too); the same kill points on the emulated card through real pcscd + vpcd, with
recovery against the same card, are in test_saga_card.py.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kiosk.contract import Credential
from tests.fixtures.broker import Broker
from tests.fixtures.central import TEST_HOLDER_ID, CentralHandle
from tests.fixtures.sync_central import MiniCentral

ROOT = Path(__file__).resolve().parents[3]


def child(
    tmp: Path,
    port: int,
    mode: str,
    kill_at: str = "",
    key: str = "",
    extra: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run saga_child to its end (or its own SIGKILL); `extra`: more arguments (the readers)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.sync.saga_child",
            "--journal",
            str(tmp / "journal.sqlite3"),
            "--card",
            str(tmp / "card.rec"),
            "--port",
            str(port),
            "--mode",
            mode,
            "--kill-at",
            kill_at,
            "--key",
            key,
            *(extra or []),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )


# step killed after → (card present at restart?, expected end state, central state)
CASES = [
    ("created", True, "failed", None),  # approval never asked: nothing to undo
    ("approved", True, "done", "confirmed"),
    ("written", True, "done", "confirmed"),
    ("write-recorded", True, "done", "confirmed"),
    ("read-back", True, "done", "confirmed"),
    ("approved", False, "compensated", "cancelled"),
    ("written", False, "compensated", "cancelled"),
]


@pytest.mark.parametrize(("kill_at", "card_back", "end", "central_state"), CASES)
def test_killed_between_steps_then_recovered(
    tmp_path: Path,
    broker: Broker,
    mini_central: MiniCentral,
    kill_at: str,
    card_back: bool,
    end: str,
    central_state: str | None,
) -> None:
    key = str(uuid.uuid4())
    first = child(tmp_path, broker.port, "start", kill_at=kill_at, key=key)
    assert first.returncode == -9, first.stderr[-2000:]
    if not card_back:
        (tmp_path / "card.absent").write_text("")
    second = child(tmp_path, broker.port, "recover")
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout.split() == [end]
    with mini_central.lock:
        rec = mini_central.activations.get(key)
        kinds = [e.kind.value for e in mini_central.events]
        applied = dict(mini_central.applied)
    if central_state is None:
        assert rec is None and kinds == []
    else:
        assert rec is not None and rec["state"] == central_state
        assert kinds == [f"activation_{central_state}"]  # exactly one closing event
        assert all(n == 1 for n in applied.values())
    card = tmp_path / "card.rec"
    if end == "done":
        assert card.read_text() == key


def test_uninterrupted_activation(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral
) -> None:
    key = str(uuid.uuid4())
    run = child(tmp_path, broker.port, "start", key=key)
    assert run.returncode == 0 and run.stdout.split() == ["done"], run.stderr[-2000:]
    assert mini_central.activations[key]["state"] == "confirmed"
    again = child(tmp_path, broker.port, "recover")  # nothing left to recover
    assert again.returncode == 0 and again.stdout.split() == []


@pytest.mark.parametrize(
    ("kill_at", "card_back", "end", "central_state"),
    [("written", True, "done", "confirmed"), ("approved", False, "compensated", "cancelled")],
)
def test_saga_recovery_against_the_real_central(
    tmp_path: Path,
    broker: Broker,
    central: CentralHandle,
    kill_at: str,
    card_back: bool,
    end: str,
    central_state: str,
) -> None:
    key = str(uuid.uuid4())
    # The approval needs the card + PIN + face + fingerprint session (docs/central-trust.md);
    # signed here with the central's own key: this test is about the saga's recovery.
    token = central.service.trust.issue_for_tests(
        "SSK-SAGA-0001", TEST_HOLDER_ID, "T00000001", frozenset(Credential)
    )
    first = child(
        tmp_path, broker.port, "start", kill_at=kill_at, key=key, extra=["--token", token]
    )
    assert first.returncode == -9, first.stderr[-2000:]
    if not card_back:
        (tmp_path / "card.absent").write_text("")
    second = child(tmp_path, broker.port, "recover")
    assert second.returncode == 0 and second.stdout.split() == [end], second.stderr[-2000:]
    rows = central.query("SELECT state FROM activations WHERE activation_key = ?", (key,))
    assert rows == [(central_state,)]
