"""`kiosk provision` on the real stack: it finds the emulated reader and PSAM behind pcscd and
the fingerprint module on a pty, writes keys (0600), a CSR and a config that loads and pins
the devices, then the doctor passes; it refuses to overwrite without --force."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from drivers.idcard.emulator import make_emulator as idcard_emulator
from drivers.printer.emulator import make_emulator as printer_emulator
from tests.fixtures.broker import Broker
from tests.fixtures.fingerprint import FingerprintRig

ROOT = Path(__file__).resolve().parents[2]


def _provision(args: list[str], state: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK")}
    env["KIOSK__TERMINAL__STATE_DIR"] = str(state)
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "provision", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_provision_discovers_writes_and_hands_over_to_the_doctor(
    card_slot: Any, fp_rig: FingerprintRig, broker: Broker, tmp_path: Path
) -> None:
    fp_rig.emulator()
    idcard_link, printer_link = tmp_path / "ttyID0", tmp_path / "ttyPRN0"
    out, creds = tmp_path / "kiosk.toml", tmp_path / "credentials"
    args = [
        "--terminal-id", "SSK-HALL7-0042",
        "--site", "Hall 7",
        "--mode", "demo",
        "--no-tls",
        "--broker", f"127.0.0.1:{broker.port}",
        "--output", str(out),
        "--credentials-dir", str(creds),
        "--probe-port", "/dev/null-no-such-port",
        "--probe-port", fp_rig.link,
        "--probe-port", str(printer_link),
        "--probe-port", str(idcard_link),
        "--camera", "synthetic:still",
    ]  # fmt: skip
    with (
        idcard_emulator(idcard_link, profile="resident", pace=False),
        printer_emulator(printer_link, pace=False),
    ):
        result = _provision(args, tmp_path / "state")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]

    config = tomllib.loads(out.read_text())
    assert config["terminal"]["id"] == "SSK-HALL7-0042"
    assert config["card"]["reader"] == card_slot.reader_names[0]
    assert config["psam"]["reader"] == card_slot.reader_names[1]
    assert config["fingerprint"]["port"] == fp_rig.link  # the port that answered
    # each hall device found on its own port, whatever the order they were probed in
    assert config["idcard"] == {"enabled": True, "port": str(idcard_link)}
    assert config["printer"] == {"enabled": True, "port": str(printer_link)}
    for secret in ("journal-key", "mqtt-client.key"):
        mode = stat.S_IMODE((creds / secret).stat().st_mode)
        assert mode == 0o600, f"{secret} is {oct(mode)}"
    assert "journal-key" not in out.read_text() and "PRIVATE" not in out.read_text()
    csr = x509.load_pem_x509_csr((creds / "mqtt-client.csr").read_bytes())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "SSK-HALL7-0042"
    assert "all checks passed" in result.stdout  # the doctor ran on the new config

    again = _provision(args, tmp_path / "state")
    assert again.returncode == 1 and "--force" in again.stderr
