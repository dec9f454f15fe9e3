"""Identity check: the live camera preview with a face guide and the quality reason in words,
or the fingerprint prompt with its animation.

Frames come from the core's camera as numpy arrays; only this screen, on the Kivy main thread,
copies them into a texture (`blit_buffer` from another thread does nothing). The preview keeps
no frame: each blit overwrites the last one and `wipe()` drops the texture.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty

from ui.screens.base import ViewScreen


class IdentityScreen(ViewScreen):
    """`mode` follows the state: face (preview) or fingerprint (pulsing ring)."""

    fingerprint = BooleanProperty(False)
    texture = ObjectProperty(None, allownone=True)
    pulse = NumericProperty(0.0)
    frames_shown = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._last_seq = -1
        self._events: list[Any] = []

    def render_more(self, view: Any) -> None:
        self.fingerprint = "finger" in str(view.state).lower()

    def on_enter(self) -> None:
        # Every frame of Kivy's loop looks for a new camera frame: polling at the camera's own
        # 30 Hz beat against it and dropped every frame that fell between two polls.
        self._events = [
            Clock.schedule_interval(self._show_frame, 0),
            Clock.schedule_interval(self._animate, 1 / 20),
        ]

    def on_leave(self) -> None:
        for ev in self._events:
            ev.cancel()
        self._events = []
        self.texture = None

    def _animate(self, dt: float) -> None:
        if self.fingerprint:  # a change redraws the window: none while the camera shows
            self.pulse = (self.pulse + dt) % 1.5

    def _show_frame(self, _dt: float) -> None:
        feed = self.app.preview
        if feed is None or self.fingerprint:
            return
        frame = feed.latest()
        if frame is None or frame.seq == self._last_seq:
            return
        self._last_seq = frame.seq
        image = frame.image
        h, w = int(image.shape[0]), int(image.shape[1])
        tex = self.texture
        if tex is None or tuple(tex.size) != (w, h):
            tex = Texture.create(size=(w, h), colorfmt="bgr")
            tex.flip_vertical()
            tex.flip_horizontal()  # a mirror: people move towards the guide naturally
        tex.blit_buffer(image.reshape(-1), colorfmt="bgr", bufferfmt="ubyte")
        self.texture = tex
        self.ids.preview.canvas.ask_update()
        self.frames_shown += 1

    def wipe_more(self) -> None:
        self.texture = None
        self._last_seq = -1
