"""The virtual card base: APDU parsing and the T=0 answer rules (61xx, 6Cxx, GET RESPONSE).

Subclasses implement `handle(cmd)` from the card's point of view; this base turns their answers
into what a T=0 card sends: in strict mode data after a command with a body comes back as `61xx`
and is fetched with GET RESPONSE, and a wrong Le on a read gets `6Cxx`; in lenient mode the data
comes straight back with its status word.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "Command", "VirtualCard", "sw"]


def sw(code: int) -> bytes:
    """Status word as 2 bytes."""
    return bytes([(code >> 8) & 0xFF, code & 0xFF])


@dataclass(frozen=True)
class Command:
    """A parsed short command APDU. `le` is None when absent; Le=00 is 256."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None

    @property
    def has_body(self) -> bool:
        """True for cases 3 and 4 (the command carries data)."""
        return bool(self.data)


@dataclass(frozen=True)
class Answer:
    """What a handler answers: response data and status word (before T=0 shaping)."""

    data: bytes = b""
    status: int = 0x9000

    @classmethod
    def error(cls, status: int) -> Answer:
        """An answer with no data."""
        return cls(b"", status)


def parse_command(apdu: bytes) -> Command | None:
    """Parse a short APDU (cases 1-4); None if its length is inconsistent."""
    if len(apdu) < 4:
        return None
    cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
    if len(apdu) == 4:
        return Command(cla, ins, p1, p2, b"", None)
    if len(apdu) == 5:
        return Command(cla, ins, p1, p2, b"", apdu[4] or 256)
    lc = apdu[4]
    if lc == 0:
        return None
    if len(apdu) == 5 + lc:
        return Command(cla, ins, p1, p2, apdu[5 : 5 + lc], None)
    if len(apdu) == 6 + lc:
        return Command(cla, ins, p1, p2, apdu[5 : 5 + lc], apdu[5 + lc] or 256)
    return None


class VirtualCard(abc.ABC):
    """A card (or PSAM) answering APDUs; one instance is one physical card with its state.

    Not thread-safe: the emulator calls it from its connection thread only.
    """

    def __init__(self, *, profile_name: str, atr: bytes, t0_strict: bool = True) -> None:
        self.profile_name = profile_name
        self.atr = atr
        self.t0_strict = t0_strict
        self.powered = False
        self._pending: bytes = b""
        self._pending_sw = 0x9000

    # -- power ---------------------------------------------------------------------------------

    def power_on(self) -> None:
        """Contacts powered: the card starts a new session (security states cleared)."""
        self.powered = True
        self._pending = b""
        self.on_reset()

    def power_off(self) -> None:
        """Contacts unpowered: volatile state is lost."""
        self.powered = False
        self._pending = b""
        self.on_reset()

    def reset(self) -> None:
        """Warm reset: like power on."""
        self.power_on()

    @abc.abstractmethod
    def on_reset(self) -> None:
        """Clear volatile state (selected files, security states, challenge)."""

    @property
    @abc.abstractmethod
    def declared(self) -> dict[str, Any]:
        """The profile's declared content in human form (what tests compare against)."""

    # -- APDU ----------------------------------------------------------------------------------

    def execute(self, apdu: bytes) -> bytes:
        """Answer one command APDU with the full response APDU (data || SW1 SW2)."""
        if not self.powered:
            # vpcd powers the card before any transmit; a command now is a reader bug.
            self.power_on()
        cmd = parse_command(apdu)
        if cmd is None:
            self._pending = b""
            return sw(0x6700)
        if cmd.ins == 0xC0 and cmd.cla == 0x00:
            return self._get_response(cmd)
        self._pending = b""
        answer = self.handle(cmd)
        return self._shape(cmd, answer)

    @abc.abstractmethod
    def handle(self, cmd: Command) -> Answer:
        """Answer one command (GET RESPONSE is handled by the base)."""

    def case2(self, cmd: Command, data: bytes, status: int = 0x9000) -> Answer:
        """Answer a read whose length the terminal must state exactly (READ RECORD).

        Strict T=0: a wrong Le gets `6Cxx` with the right length; lenient: the data anyway.
        """
        if self.t0_strict and cmd.le != len(data):
            return Answer.error(0x6C00 | (len(data) & 0xFF))
        return Answer(data, status)

    def _shape(self, cmd: Command, answer: Answer) -> bytes:
        if not answer.data:
            return sw(answer.status)
        if self.t0_strict and (cmd.has_body or cmd.le is None):
            # T=0 case 4 (or case 3 with an answer): the data waits for GET RESPONSE.
            self._pending = answer.data
            self._pending_sw = answer.status
            return sw(0x6100 | (len(answer.data) & 0xFF))
        return answer.data + sw(answer.status)

    def _get_response(self, cmd: Command) -> bytes:
        if cmd.p1 or cmd.p2:
            return sw(0x6A86)
        if not self._pending:
            return sw(0x6985)
        le = cmd.le or 256
        data = self._pending
        if le > len(data):
            if self.t0_strict:
                return sw(0x6C00 | (len(data) & 0xFF))
            le = len(data)
        chunk, rest = data[:le], data[le:]
        if rest:
            self._pending = rest
            return chunk + sw(0x6100 | (len(rest) & 0xFF))
        self._pending = b""
        return chunk + sw(self._pending_sw)
