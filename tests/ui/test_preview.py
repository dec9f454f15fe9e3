"""The live camera picture on the identity screen: the composition root's running frame source
(OpenCV on a generated camera stream) seen through the core's read-only preview port, blitted
on the Kivy main thread while the real face check consumes the same camera."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import numpy as np

from drivers.camera.frames import encode_jpeg
from drivers.camera.source import FrameSource
from drivers.camera.synthetic import default_photo, load_photo
from kiosk.app import KioskApp
from kiosk.config import load_config
from kiosk.journeys.adapters.identity import CameraAndScanner, ReferenceSource
from kiosk.session.events import FaceMatched
from ui.demo_views import demo_views

STREAM = "synthetic:turn-left+look-up+turn-right"


def _pixels(widget: Any) -> np.ndarray:
    """What `widget` draws, RGBA, read back from an Fbo."""
    image = widget.export_as_image()
    tex = image.texture
    return np.frombuffer(tex.pixels, dtype=np.uint8).reshape(tex.height, tex.width, 4)


def test_identity_screen_shows_the_running_camera_while_the_check_uses_it(
    ui_driver: Any,
) -> None:
    config = load_config(None, profile="test").config
    config = config.model_copy(
        update={"camera": config.camera.model_copy(update={"source": STREAM})}
    )
    root = KioskApp(config)  # the composition root owns the camera; the UI gets a preview
    camera: FrameSource = root.init_camera()
    identity = CameraAndScanner(
        config.camera.to_settings(), config.face.to_settings(), None,
        ReferenceSource(card_photo=lambda: encode_jpeg(load_photo(default_photo()))),
        camera=camera,
    )
    app = ui_driver.app
    before = app.preview
    app.preview = root.camera_preview()
    result: dict[str, Any] = {}
    check = threading.Thread(
        target=lambda: result.update(event=identity.capture_face(1, 3)), daemon=True)
    try:
        app.show(demo_views("en")["identity"])
        ui_driver.pump(3)
        assert app.sm.current == "identity"
        screen = app.screen
        preview = screen.ids.preview
        check.start()
        shots: list[np.ndarray] = []
        deadline = time.monotonic() + 60
        while check.is_alive() and time.monotonic() < deadline:
            ui_driver.pump(1)
            if screen.frames_shown > len(shots) * 5 and len(shots) < 6:
                shots.append(_pixels(preview))
        check.join(5)
        assert isinstance(result.get("event"), FaceMatched), result
        assert screen.frames_shown >= 10, "the preview followed the stream"
        assert len(shots) >= 2
        for shot in shots:
            rgb = shot[:, :, :3].astype(np.int16)
            assert rgb.std() > 20, "the camera picture shows (not a blank box)"
        changed = [np.abs(a[:, :, :3].astype(np.int16) - b[:, :, :3]).mean()
                   for a, b in itertools.pairwise(shots)]
        assert max(changed) > 1.0, f"the picture moves with the stream: {changed}"
    finally:
        check.join(5)
        app.preview = before
        root.stop()
    ui_driver.pump(2)
    assert camera.peek() is None, "no frame of the citizen outlives the camera"
