"""e-SSC QR login end to end: `kiosk-central essc issue` makes a code and its QR image, a phone
showing it is filmed (a video file through OpenCV VideoCapture), the kiosk's scanner reads it,
and the kiosk's own sync stack redeems it at the real central through mosquitto; the session
then answers queries. A replay of the same video afterwards is refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.camera.qr import QrDecoder, QrScanner
from drivers.camera.qr_frames import write_qr_video
from drivers.camera.settings import SourceSettings
from drivers.camera.source import FrameSource
from kiosk.contract import Credential, InsuranceKind
from kiosk.services.errors import ForbiddenError
from kiosk.services.essc import EsscLoginClient
from kiosk.services.inquiry import InquiryService
from tests.fixtures.broker import Broker
from tests.fixtures.central import CentralHandle, emulator_seed_config, start_test_central
from tests.fixtures.kiosk_process import ROOT
from tests.integration.sync.conftest import Factory, make_sync  # noqa: F401 (the fixture)

SSC3_ID = "330303199202140048"  # drivers/card/emulator/profiles/ssc3.json
TERMINAL = "SSK-ESSC-0001"


@pytest.fixture
def emu_central(tmp_path: Path, broker: Broker) -> Iterator[CentralHandle]:
    handle = start_test_central(tmp_path / "central", broker, seed=emulator_seed_config())
    try:
        yield handle
    finally:
        handle.service.stop()


def _issue(central: CentralHandle, tmp: Path, *extra: str) -> tuple[str, Path]:
    config = tmp / "central-cli.toml"
    config.write_text(f'[storage]\nurl = "{central.config.storage.url}"\n')
    png = tmp / "essc.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "central.cli",
            "--config",
            str(config),
            "essc",
            "issue",
            SSC3_ID,
            "--png",
            str(png),
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), png


def _scan(video: Path) -> str | None:
    source = FrameSource(SourceSettings(source=str(video)), name="essc-test")
    scanner = QrScanner(QrDecoder())
    source.start()
    try:
        for frame in source.frames(timeout=5.0, limit=60):
            code = scanner.feed(frame.image, at=frame.at)
            if code:
                return code
    finally:
        source.stop()
    return None


def test_a_phone_code_logs_in_once_and_serves_queries(
    make_sync: Factory,  # noqa: F811
    emu_central: CentralHandle,
    tmp_path: Path,
) -> None:
    code, png = _issue(emu_central, tmp_path, "--terminal", TERMINAL)
    assert png.stat().st_size > 0 and SSC3_ID not in code
    video = write_qr_video(code, tmp_path / "phone.avi", frames=20, condition="dim")
    assert _scan(video) == code
    sync, _journal = make_sync(TERMINAL)
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    session = EsscLoginClient(sync.rpc).login(code)
    assert session.credentials == frozenset({Credential.ESSC}) and session.card_number == ""
    inquiry = InquiryService(sync.rpc)
    assert inquiry.person(session).id_number == SSC3_ID
    series = inquiry.yearly(session, InsuranceKind.PENSION, 2025, 2026)
    assert [p.year for p in series.points] == [2025, 2026]
    # Someone filmed the phone: the same code again is refused, and names nobody.
    with pytest.raises(ForbiddenError) as replay:
        EsscLoginClient(sync.rpc).login(_scan(video) or "")
    assert replay.value.remote_code == "forbidden" and SSC3_ID not in str(replay.value)
