"""Issue 8: a production terminal refuses generated and file camera sources (like the emulated
reader), the frame source itself will not open them, and `kiosk doctor` says so with a hint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drivers.camera.errors import CameraSourceRefusedError
from drivers.camera.source import FrameSource
from drivers.vocabulary import ErrorCode
from kiosk.camera_access import camera_findings, camera_settings
from kiosk.cli.main import root
from kiosk.config import KioskConfig, load_config
from kiosk.config.terminal import Mode

ROOT = Path(__file__).resolve().parents[3]
GRACE = "/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg"


def config(mode: Mode, source: str) -> KioskConfig:
    cfg = load_config(None, profile="test").config
    return cfg.model_copy(
        update={
            "terminal": cfg.terminal.model_copy(update={"mode": mode}),
            "camera": cfg.camera.model_copy(update={"source": source}),
        }
    )


@pytest.mark.parametrize("source", ["synthetic:turn-left", "/var/lib/kiosk/recorded.avi"])
def test_production_refuses_generated_and_file_sources(source: str) -> None:
    cfg = config(Mode.PRODUCTION, source)
    with pytest.raises(CameraSourceRefusedError) as e:
        camera_settings(cfg)
    assert e.value.code is ErrorCode.CAMERA_SOURCE_REFUSED
    (finding,) = camera_findings(cfg)
    assert not finding.ok and "production terminal takes a camera only" in finding.detail


def test_production_takes_a_camera_device_and_demo_takes_anything() -> None:
    for device in ("0", "/dev/video0", "/dev/v4l/by-id/usb-cam-video-index0"):
        settings = camera_settings(config(Mode.PRODUCTION, device))
        assert settings.devices_only and settings.source == device
        assert camera_findings(config(Mode.PRODUCTION, device))[0].ok
    demo = camera_settings(config(Mode.DEMO, "synthetic:still"))
    assert not demo.devices_only
    # an override on the command line is judged like the configured source
    with pytest.raises(CameraSourceRefusedError):
        camera_settings(config(Mode.PRODUCTION, "0"), "synthetic:still")


def test_the_frame_source_itself_will_not_open_a_stream_on_production() -> None:
    # a long-running app gets the settings without the exception: the source refuses to open
    settings = camera_settings(config(Mode.PRODUCTION, "synthetic:still"), raise_refused=False)
    assert settings.devices_only
    src = FrameSource(settings, name="prod")
    src.start()
    try:
        assert src.wait_frame(0, 1.5) is None
        stats = src.stats()
        assert stats.captured == 0
        assert "refused on a production terminal" in stats.last_error
    finally:
        src.stop()


def test_face_verify_on_production_refuses_a_generated_source() -> None:
    env = {"KIOSK__TERMINAL__MODE": "production"}
    result = CliRunner().invoke(
        root,
        [
            "--profile",
            "test",
            "face",
            "verify",
            "--reference",
            GRACE,
            "--source",
            "synthetic:turn-left",
        ],
        env=env,
    )
    assert result.exit_code == 1, result.output
    assert "camera.source_refused" in result.output
    assert "Traceback" not in result.output


def test_doctor_on_production_fails_a_generated_camera_source_with_a_hint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK")}
    env.update(
        {
            "KIOSK_PROFILE": "test",
            "KIOSK__TERMINAL__STATE_DIR": str(tmp_path),
            "KIOSK__TERMINAL__MODE": "production",
            "KIOSK__CAMERA__SOURCE": "synthetic:turn-left-right",
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "doctor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    source = next(line for line in lines if line.split()[1:2] == ["camera_source"])
    assert source.startswith("FAIL") and "synthetic" in source, result.stdout
    camera = next(line for line in lines if line.split()[1:2] == ["camera"])
    assert camera.startswith("FAIL"), result.stdout
    assert "set camera.source to the camera device" in result.stdout
