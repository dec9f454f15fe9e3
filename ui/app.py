"""The kiosk's Kivy app: one ScreenManager, kiosk mode, the keypad, voice, and the watchdog.

Import only after `ui.boot.configure()`. The app renders views the session posts through the
bridge and sends intents to the session port; it never calls a driver or MQTT itself.
"""

from __future__ import annotations

import ctypes
import glob
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from kivy.app import App
from kivy.clock import Clock
from kivy.core.audio import SoundLoader
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.metrics import Metrics
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.session import intents
from ui.bridge import ViewBridge
from ui.drawn import __all__ as _drawn  # noqa: F401  (registers its kv classes)
from ui.focus_ring import FocusRing
from ui.fonts import FontSet
from ui.i18n import Catalogs
from ui.keypad import Key, classify
from ui.lists import __all__ as _lists  # noqa: F401  (registers its kv classes)
from ui.memory import take_collector_off_the_frames
from ui.screen_set import ScreenSet
from ui.screens import screen_for
from ui.screens.base import ViewScreen
from ui.theme import PALETTE, hex_rgba
from ui.undrawn import install as leave_hidden_widgets_undrawn
from ui.voice import Voice
from ui.widgets import FullWindowScreens

__all__ = ["KioskUi", "SessionPort", "active_video_driver"]

log = logging.getLogger("ui.app")

UI_DIR = Path(__file__).resolve().parent
# A new screen's tiles and rows have no size until their layout has run, a few frames after the
# show: the default focus target is looked for on each frame until both of these have passed.
FOCUS_SETTLE_FRAMES = 6
FOCUS_SETTLE_S = 0.3


class SessionPort(Protocol):
    """Where intents go (the session runner, or the demo's scripted session)."""

    def send(self, intent: intents.Intent) -> None: ...


def active_video_driver() -> str:
    """The SDL video driver actually in use (a silent fall-back to offscreen = black panel)."""
    import kivy

    libs = sorted(glob.glob(os.path.join(os.path.dirname(kivy.__file__), "..", "Kivy.libs",
                                         "libSDL2-2*.so*")))
    for path in libs:
        try:
            sdl = ctypes.CDLL(path)
            sdl.SDL_GetCurrentVideoDriver.restype = ctypes.c_char_p
            name = sdl.SDL_GetCurrentVideoDriver()
            return name.decode() if name else "none"
        except OSError:
            continue
    return os.environ.get("SDL_VIDEODRIVER", "unknown")


class KioskUi(App):
    """The touchscreen. `lang` and `elderly` are what every kv binds to."""

    lang = StringProperty("zh_CN")
    elderly = BooleanProperty(False)
    seconds_left = NumericProperty(-1)
    title = "社会保障自助服务"

    def __init__(
        self, *, port: SessionPort, catalogs: Catalogs, fonts: FontSet, voice: Voice,
        elderly_fontscale: float = 1.25,
        heartbeat: Callable[[], None] | None = None, heartbeat_interval_s: float = 1.0,
        preview: Any = None, required_video_driver: str = "", **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.port = port
        self.catalogs = catalogs
        self.fonts = fonts
        self.voice = voice
        self.elderly_fontscale = elderly_fontscale
        self.preview = preview  # object with latest() -> Frame | None (camera), or None
        self._heartbeat = heartbeat
        self._heartbeat_interval = heartbeat_interval_s
        self.bridge: ViewBridge[Any] = ViewBridge(self.show)
        self.sm: ScreenManager | None = None
        self.view: Any = None
        self.video_driver = ""
        self.shown: list[str] = []  # screen names in the order shown (tests, taps)
        self.started_at = time.monotonic()
        self._sounds: dict[str, Any] = {}
        self.required_video_driver = required_video_driver
        self.screens: ScreenSet | None = None
        self._focus_moved = False  # the keypad moved the focus on the screen shown
        self._focus_frames = 0
        self._focus_since = 0.0
        self._focus_settler: Any = None

    # --- set-up ----------------------------------------------------------------------
    def build(self) -> ScreenManager:
        leave_hidden_widgets_undrawn()
        LabelBase.register("Roboto", str(self.fonts.regular), fn_bold=str(self.fonts.bold))
        LabelBase.register("Body", str(self.fonts.regular), fn_bold=str(self.fonts.bold))
        LabelBase.register("Icons", str(self.fonts.icons))
        Builder.load_file(str(UI_DIR / "style.kv"))
        sm = FullWindowScreens(transition=NoTransition())
        self.sm = sm
        self.screens = ScreenSet(sm)
        self.ring = FocusRing()  # on the window above the screens, from on_start
        self.screen_named("attract")  # the others are built when first shown (start-up time)
        Window.bind(on_request_close=self._refuse_close, on_key_down=self._on_key)
        # The page colour is the window's clear: a page-sized rectangle under every screen
        # would be one more full-window fill per frame for the software GL.
        Window.clearcolor = hex_rgba(PALETTE["page"])
        self.video_driver = active_video_driver()
        log.info("SDL video driver: %s, window %sx%s, dpi %s", self.video_driver,
                 Window.width, Window.height, Metrics.dpi)
        wanted = self.required_video_driver
        if wanted and self.video_driver.lower() != wanted.lower():
            # e.g. KMSDRM failed and SDL fell back to offscreen: the panel would stay black
            raise RuntimeError(f"SDL video driver is {self.video_driver}, not {wanted}")
        if self._heartbeat is not None:
            Clock.schedule_interval(lambda _dt: self._beat(), self._heartbeat_interval)
        Clock.schedule_interval(self._tick, 1.0)
        return sm

    def on_start(self) -> None:
        self.voice._play = self._play_on_main
        self.voice.start()
        Window.add_widget(self.ring)  # after the root: drawn on top of every screen
        take_collector_off_the_frames()
        assert self.screens is not None
        Clock.schedule_once(self.screens.preload_kv, 1.0)

    def on_stop(self) -> None:
        self.voice.stop()

    def _refuse_close(self, *_a: Any, **_k: Any) -> bool:
        log.info("close request refused (kiosk mode)")
        return True

    def _beat(self) -> None:
        # From the Kivy loop: a hung UI stops the heartbeat; the callable itself checks the core.
        assert self._heartbeat is not None
        self._heartbeat()

    # --- translation -----------------------------------------------------------------
    def t(self, key: str, lang: str, **params: Any) -> str:
        """UI text of `key` in `lang` (kv passes app.lang so the text follows switches)."""
        return self.catalogs.text(key, lang, params or None)

    # --- views -------------------------------------------------------------------------
    def screen_named(self, name: str) -> ViewScreen:
        """The screen `name`, built with its kv the first time it is needed."""
        assert self.screens is not None
        return self.screens.get(name)

    @property
    def screen(self) -> ViewScreen:
        assert self.sm is not None
        current = self.sm.current_screen
        assert isinstance(current, ViewScreen)
        return current

    def show(self, view: Any) -> None:
        """Render `view` on its screen (main thread; the bridge calls this)."""
        assert self.sm is not None
        previous = self.view
        self.view = view
        switched = view.language != self.lang
        if switched:
            self.lang = view.language
        if view.elderly != self.elderly:
            self.elderly = view.elderly
            Metrics.fontscale = self.elderly_fontscale if view.elderly else 1.0
            # sp() is computed when a kv rule runs and the font scale is no binding: a screen
            # built before the switch keeps its old sizes (the attract screen, where large
            # print is chosen, did not grow at all), so the built screens go
            assert self.screens is not None
            self.screens.drop_all()
        name = screen_for(view)
        screen = self.screen_named(name)
        new_screen = name != self.sm.current or previous is None or previous.state != view.state
        if new_screen and self.sm.current != name and self.sm.current == "attract":
            self.screen.wipe()  # any other screen left is dropped, and wiped off this frame
        warned = screen.timeout_warning
        screen.render(view)
        self.sm.current = name
        assert self.screens is not None
        self.screens.drop_old()
        if screen.timeout_warning and not warned:  # the keypad lands on "more time"
            self._settle_focus_on_arrival()
        self.seconds_left = view.timeout.seconds_left if view.timeout else -1
        if new_screen:
            self.shown.append(name)
        if new_screen or switched:  # a new language speaks the prompt again, in it
            self.voice.say(screen.voice_text(), self.lang)
        if new_screen:
            self._settle_focus_on_arrival()
        if view.state in ("idle", "attract"):
            self.forget_personal()

    def forget_personal(self) -> None:
        """Session over: no screen but the attract screen keeps anything from a view."""
        assert self.sm is not None
        for screen in self.sm.screens:
            if screen is not self.sm.current_screen and isinstance(screen, ViewScreen):
                screen.wipe()
        self.voice.forget()

    def _tick(self, _dt: float) -> None:
        if self.seconds_left > 0:
            self.seconds_left = max(0, self.seconds_left - 1)

    # --- intents ---------------------------------------------------------------------------
    def intent(self, name: str, **fields: Any) -> None:
        """Send the intent class `name` of kiosk.session.intents with `fields`."""
        cls = getattr(intents, name)
        self.send(cls(**fields))

    def send(self, intent: intents.Intent) -> None:
        log.debug("intent %s", type(intent).__name__)
        self.port.send(intent)

    def toggle_language(self) -> None:
        self.send(intents.SetLanguage("en" if self.lang == "zh_CN" else "zh_CN"))

    def toggle_elderly(self) -> None:
        self.send(intents.SetElderly(not self.elderly))

    def repeat_voice(self) -> None:
        self.voice.repeat()

    def change_volume(self, delta: int) -> None:
        self.voice.set_volume(self.voice.volume + delta)
        self.voice.beep()

    def _play_on_main(self, wav: Path, volume: float) -> None:
        def play(_dt: float) -> None:
            sound = SoundLoader.load(str(wav))
            if sound is None:
                return
            sound.volume = volume
            sound.play()
            self._sounds["last"] = sound  # keep a reference while it plays

        Clock.schedule_once(play, 0)

    # --- keypad and focus -----------------------------------------------------------------
    def _settle_focus_on_arrival(self) -> None:
        """Put the focus on the default target once the new screen is laid out. Focus order is
        by window position, and tiles and rows built in the render have no size at the first
        look (the inquiry's focus fell on the header's Repeat). Layout takes frames, not a fixed
        time: a show that took longer than a timer (a loaded machine) used to fire both looks
        before the first layout. So the default is looked for on each frame, for at least
        FOCUS_SETTLE_FRAMES frames and FOCUS_SETTLE_S, unless the keypad moves it first."""
        self._focus_moved = False
        self._focus_frames = 0
        self._focus_since = time.monotonic()
        if self._focus_settler is None:
            self._focus_settler = Clock.schedule_interval(self._settle_focus, 0)

    def _settle_focus(self, _dt: float) -> bool | None:
        self._focus_frames += 1
        if not self._focus_moved:
            self.focus_default()
        settled = (self._focus_frames >= FOCUS_SETTLE_FRAMES
                   and time.monotonic() - self._focus_since >= FOCUS_SETTLE_S)
        if self._focus_moved or settled:
            self._focus_settler = None
            return False
        return None

    def focus_default(self) -> None:
        """The screen's default target gets the focus."""
        self._set_focus(self.screen.default_focus())

    def _set_focus(self, widget: Any) -> None:
        for w in self.screen.focusables():
            w.focused = w is widget
        self.ring.follow(widget)

    def focused(self) -> Any:
        for w in self.screen.focusables():
            if w.focused:
                return w
        return None

    def move_focus(self, step: int) -> None:
        items = self.screen.focusables()
        if not items:
            return
        current = self.focused()
        index = items.index(current) if current in items else -1
        self._set_focus(items[(index + step) % len(items)])
        self._focus_moved = True

    def _on_key(self, _window: Any, key: int, _scancode: int, _codepoint: Any,
                _mods: Any) -> bool:
        kind, digit = classify(key)
        screen = self.screen
        if screen.takes_typing and kind not in (Key.ENTER, Key.CANCEL):
            return False  # the text field's own keyboard handling
        if kind is Key.ENTER and screen.on_enter_key():
            return True
        if kind is Key.DIGIT:
            if screen.accepts_digits and screen.on_digit(digit):
                return True
            if digit in (2, 4):
                self.move_focus(-1)
            elif digit in (6, 8):
                self.move_focus(1)
            elif digit == 5:
                self.repeat_voice()
            elif digit in (7, 9):
                self.change_volume(-10 if digit == 7 else 10)
            return True
        if kind is Key.ENTER:
            target = self.focused()
            if target is not None:
                target.dispatch("on_press")
                target.dispatch("on_release")
            return True
        if kind is Key.CLEAR:
            if not screen.on_clear() and screen.can_back:
                self.intent("Back")
            return True
        if kind is Key.CANCEL:
            if screen.can_cancel:
                self.intent("Cancel")
            return True  # never lets Escape close the app
        return False
