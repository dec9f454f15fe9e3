"""`kiosk camera check` and `kiosk face verify` end to end (real source thread, OpenCV, dlib)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from typer.testing import CliRunner

from kiosk.cli.main import root

GRACE = "/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg"
runner = CliRunner()


def kiosk(*args: str) -> tuple[int, str]:
    result = runner.invoke(root, ["--profile", "test", *args])
    return result.exit_code, result.output


def test_camera_check_prints_fps_and_verdict_and_saves_snapshot(tmp_path: Path) -> None:
    snap = tmp_path / "snap.jpg"
    code, out = kiosk(
        "camera", "check", "--source", "synthetic:still:grace_hopper", "--snapshot", str(snap),
        "--frames", "5", "--lang", "en",
    )  # fmt: skip
    assert code == 0, out
    assert "fps=" in out and "quality=face.ok" in out and "message=Good" in out
    img = cv2.imread(str(snap))
    assert img is not None and img.shape == (480, 640, 3)


def test_camera_check_without_a_face_exits_2(tmp_path: Path) -> None:
    video = tmp_path / "wall.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (640, 480))
    for _ in range(5):
        writer.write(np.full((480, 640, 3), 120, np.uint8))
    writer.release()
    code, out = kiosk("camera", "check", "--source", str(video), "--frames", "3")
    assert code == 2, out
    assert "quality=face.no_face" in out and "请正对摄像头" in out


def test_camera_check_without_a_camera_exits_1(tmp_path: Path) -> None:
    code, out = kiosk("camera", "check", "--source", str(tmp_path / "none.avi"), "--timeout", "1")
    assert code == 1
    assert "no frame" in out


def test_face_verify_passes_on_a_turning_holder() -> None:
    code, out = kiosk(
        "face", "verify", "--reference", GRACE,
        "--source", "synthetic:turn-left+look-up+turn-right:grace_hopper",
    )  # fmt: skip
    assert code == 0, out
    assert "match=yes" in out and "liveness=passed" in out and "result=pass" in out
    assert "challenges=turn_left,look_up,turn_right" in out


def test_face_verify_refuses_fewer_than_three_fixed_challenges() -> None:
    code, out = kiosk(
        "face", "verify", "--reference", GRACE, "--source", "synthetic:turn-left:grace_hopper",
        "--challenges", "turn_left,turn_right",
    )  # fmt: skip
    assert code == 1, out
    assert "at least 3 liveness challenges, not 2" in out


def test_face_verify_a_stream_of_two_movements_is_asked_three_and_fails() -> None:
    code, out = kiosk(
        "face", "verify", "--reference", GRACE,
        "--source", "synthetic:turn-left-right:grace_hopper",
    )  # fmt: skip
    assert code == 3, out
    assert "match=yes" in out and "liveness=passed" not in out and "result=fail" in out


def test_face_verify_flat_print_is_not_live() -> None:
    code, out = kiosk(
        "face", "verify", "--reference", GRACE, "--source", "synthetic:print-turn:grace_hopper",
        "--challenges", "turn_left,look_up,turn_right",
    )  # fmt: skip
    assert code == 3, out
    assert "match=yes" in out and "liveness=flat" in out and "result=fail" in out


def test_face_verify_other_person_does_not_match() -> None:
    code, out = kiosk(
        "face", "verify", "--reference", GRACE, "--source", "synthetic:turn-left:astronaut",
    )  # fmt: skip
    assert code == 2, out
    assert "match=no" in out


def test_face_verify_bad_input_exits_1(tmp_path: Path) -> None:
    code, out = kiosk("face", "verify", "--reference", str(tmp_path / "missing.jpg"))
    assert code == 1 and "reference photo error" in out
    code, out = kiosk(
        "face", "verify", "--reference", GRACE, "--source", "synthetic:still:grace_hopper",
        "--challenges", "blink",
    )  # fmt: skip
    assert code == 1 and "unknown challenge" in out and "blink is not offered" in out
