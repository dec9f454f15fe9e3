"""`kiosk demo-screens --once` (what `make demo` runs without a display): the demo's three
journeys play on the touchscreen offscreen, each to its result, and every screen is a PNG."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def test_demo_screens_plays_every_journey_and_writes_a_png_of_each_screen(
    tmp_path: Path,
) -> None:
    out = tmp_path / "screens"
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "demo-screens", "--once", "--out", str(out),
         "--state-dir", str(tmp_path / "state")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    for name in ("query", "payment", "activation"):
        assert f"journey {name}: result=pass" in log, log[-4000:]
    pngs = sorted(out.glob("*.png"))
    screens = {p.stem.split("-", 2)[2] for p in pngs}
    # every journey to its end: the result, taking the card, back to the attract screen
    for name, wanted in (("query", {"menu", "pin", "inquiry", "take_card"}),
                         ("payment", {"pin", "utility", "receipt", "take_card"}),
                         ("activation", {"pin", "consent", "identity", "receipt"})):
        shown = {p.stem.split("-", 2)[2] for p in pngs if p.stem.startswith(name + "-")}
        assert wanted <= shown, f"{name}: {sorted(shown)}"
        assert sorted(p for p in pngs if p.stem.startswith(name + "-"))[-1].stem.endswith(
            "attract")
    assert "attract" in screens
    for png in pngs:
        image = cv2.imread(str(png))
        assert image is not None and image.shape[1] >= 1280, png
        assert image.std() > 10, f"{png.name} is blank"
    assert not list(out.glob("*.tmp*.png"))
    # The face step previews the journey's camera: a photo's many colours inside the guide,
    # not the guide alone on black (the demo once gave each check a camera of its own).
    face = next(p for p in pngs if p.stem.startswith("activation-") and "identity" in p.stem)
    image = cv2.imread(str(face))
    assert image is not None
    preview = image[350:800, 60:670] // 16
    assert len(np.unique(preview.reshape(-1, 3), axis=0)) > 150, f"{face.name}: no camera frame"
