"""An emulated SAM_A module, written from the module's side of the frame (docs/idcard-reader.md).

Pure logic: `receive(bytes)` returns what the module would send (with think-times); the pty
transport (drivers/ptylink.py) carries it. State: a card on the antenna or not, selected or not.
Faults a technician or a test can inject: no card, the card moved away in the middle of a read,
a checksum error in the next replies, silence, garbage before a reply.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from drivers.idcard.codec import (
    BadFrame,
    Command,
    FrameParser,
    Request,
    Status,
    build_read_payload,
    build_reply,
)
from drivers.idcard.emulator.profiles import PROFILES, CardProfile
from drivers.ptylink import Outgoing

__all__ = ["FakeSamModule", "Faults"]

SAM_ID = bytes.fromhex("0501000031323334353637380a0b0c0d")

# Think-times of a real module (seconds), before the UART time of the reply itself.
_THINK = {
    Command.FIND_CARD: 0.02,
    Command.SELECT_CARD: 0.03,
    Command.READ_TEXT_PHOTO: 0.15,
    Command.READ_WITH_FINGERPRINTS: 0.2,
}


@dataclass
class Faults:
    """Injectable faults; each counter is consumed by the replies it affects."""

    remove_during_read: bool = False  # the next read finds the card gone (SW3 80)
    bad_checksum_replies: int = 0  # the next N replies carry a wrong XOR
    silent_replies: int = 0  # the next N requests get no answer at all
    garbage_before: bytes = b""  # sent once before the next reply
    silent: bool = False  # the module never answers (dead SAM, wrong baud rate)


@dataclass
class FakeSamModule:
    """The module's behaviour. Thread-safe: tests insert and remove cards from their thread."""

    card: CardProfile | None = None
    faults: Faults = field(default_factory=Faults)
    selected: bool = False
    requests: int = 0
    _parser: FrameParser = field(default_factory=lambda: FrameParser(replies=False))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def with_profile(cls, name: str | None) -> FakeSamModule:
        if name is not None and name not in PROFILES:
            raise ValueError(f"unknown ID card profile {name!r}; known: {', '.join(PROFILES)}")
        return cls(card=PROFILES[name] if name else None)

    def power_on(self) -> None:
        with self._lock:
            self.selected = False
            self._parser.reset()

    def place(self, profile: str | CardProfile) -> None:
        """Put a card on the antenna."""
        with self._lock:
            self.card = PROFILES[profile] if isinstance(profile, str) else profile
            self.selected = False

    def take_away(self) -> None:
        """Lift the card off the antenna."""
        with self._lock:
            self.card = None
            self.selected = False

    def receive(self, data: bytes) -> list[Outgoing]:
        with self._lock:
            out: list[Outgoing] = []
            for item in self._parser.feed(data):
                self.requests += 1
                reply = self._answer(item)
                if reply is not None:
                    out.append(reply)
            return out

    def _answer(self, item: Request | BadFrame | object) -> Outgoing | None:
        f = self.faults
        if f.silent:
            return None
        if f.silent_replies:
            f.silent_replies -= 1
            return None
        if isinstance(item, BadFrame):
            frame = build_reply(Status.CHECKSUM_ERROR if item.reason == "checksum" else 0x11)
            return self._send(frame, 0.005)
        assert isinstance(item, Request)
        command = item.command
        if command is None:
            return self._send(build_reply(Status.COMMAND_ERROR), 0.005)
        frame = self._execute(command)
        return self._send(frame, _THINK.get(command, 0.005))

    def _execute(self, command: Command) -> bytes:
        if command in (Command.RESET_SAM, Command.SAM_STATUS, Command.MAX_RF_BYTES):
            return build_reply(Status.OK)
        if command is Command.SAM_ID:
            return build_reply(Status.OK, SAM_ID)
        if command is Command.FIND_CARD:
            if self.card is None:
                return build_reply(Status.NO_CARD)
            return build_reply(Status.CARD_FOUND, b"\x00" * 4)
        if command is Command.SELECT_CARD:
            if self.card is None:
                return build_reply(Status.SELECT_FAILED)
            self.selected = True
            return build_reply(Status.OK, b"\x00" * 8)
        if command is Command.READ_NEW_ADDRESS:
            return build_reply(Status.EMPTY)
        # READ_TEXT_PHOTO / READ_WITH_FINGERPRINTS
        if self.faults.remove_during_read:
            self.faults.remove_during_read = False
            self.card, self.selected = None, False
            return build_reply(Status.NO_CARD)
        if self.card is None:
            return build_reply(Status.NO_CARD)
        if not self.selected:
            return build_reply(Status.READ_FAILED)
        card = self.card
        if command is Command.READ_WITH_FINGERPRINTS:
            payload = build_read_payload(card.text(), card.photo(), b"\x00" * 1024)
        else:
            payload = build_read_payload(card.text(), card.photo())
        return build_reply(Status.OK, payload)

    def _send(self, frame: bytes, think: float) -> Outgoing:
        f = self.faults
        if f.bad_checksum_replies:
            f.bad_checksum_replies -= 1
            frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
        if f.garbage_before:
            frame, f.garbage_before = f.garbage_before + frame, b""
        return Outgoing(frame, think)
