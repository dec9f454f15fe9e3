"""Spoken guidance: espeak-ng (offline) renders each prompt to a WAV on a worker thread; Kivy
plays it on the main thread at the chosen volume. The prompt's text is on the screen too.

Mandarin uses espeak-ng's `cmn-latn-pinyin` voice (its `cmn` voice reads hanzi as English
pinyin with tone digits); English uses `en-us`. PIN digits are never given to the speaker: the
PIN pad plays one identical beep per key (SEC-03).
"""

from __future__ import annotations

import logging
import math
import queue
import struct
import subprocess
import tempfile
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VOICES", "Spoken", "Voice"]

log = logging.getLogger("ui.voice")

VOICES = {"zh_CN": "cmn-latn-pinyin", "en": "en-us"}


@dataclass(frozen=True, slots=True)
class Spoken:
    """One prompt as handed to the engine (kept for repeat and for tests)."""

    text: str
    language: str
    wav: Path | None


class Voice:
    """Queue of prompts; `say` returns at once (the UI never waits for speech)."""

    def __init__(
        self, *, enabled: bool = True, volume: int = 70, espeak: str = "espeak-ng",
        play: Callable[[Path, float], None] | None = None, workdir: Path | None = None,
    ) -> None:
        self.enabled = enabled
        self.volume = max(0, min(100, volume))
        self._espeak = espeak
        self._play = play
        self._dir = workdir or Path(tempfile.mkdtemp(prefix="kiosk-voice-"))
        self._queue: queue.Queue[Spoken | None] = queue.Queue()
        self.history: list[Spoken] = []
        self.last: Spoken | None = None
        self.beeps = 0
        self._thread: threading.Thread | None = None
        self._n = 0
        self.beep_wav = self._dir / "beep.wav"
        _write_beep(self.beep_wav)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ui-voice", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def say(self, text: str, language: str) -> None:
        """Speak `text` (replacing the prompt of the previous screen)."""
        if not text:
            return
        self.last = Spoken(text, language, None)
        if self.enabled:
            self._queue.put(self.last)

    def repeat(self) -> None:
        if self.last is not None and self.enabled:
            self._queue.put(self.last)

    def set_volume(self, volume: int) -> int:
        self.volume = max(0, min(100, volume))
        return self.volume

    def beep(self) -> None:
        """The same short tone for every PIN key: nothing about which digit it was."""
        self.beeps += 1
        if self.enabled and self._play is not None:
            self._play(self.beep_wav, self.volume / 100)

    def forget(self) -> None:
        """Session end: nothing of the last prompt (which may name the holder) stays."""
        self.last = None
        self.history.clear()
        while not self._queue.empty():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()

    def wait_idle(self) -> None:
        """Tests: until every queued prompt was rendered."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._speak(item)
            finally:
                self._queue.task_done()

    def _speak(self, item: Spoken) -> None:
        self._n += 1
        out = self._dir / f"prompt-{self._n % 4}.wav"
        cmd = [self._espeak, "-v", VOICES.get(item.language, "en-us"), "-s", "150",
               "-w", str(out), item.text]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=20)
        except (OSError, subprocess.SubprocessError) as e:
            log.warning("espeak-ng failed: %s", type(e).__name__)
            return
        spoken = Spoken(item.text, item.language, out)
        self.history.append(spoken)
        if self._play is not None:
            self._play(out, self.volume / 100)


def _write_beep(path: Path, hz: float = 880.0, seconds: float = 0.08) -> None:
    rate = 22050
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * i / rate)))
        for i in range(int(rate * seconds))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
