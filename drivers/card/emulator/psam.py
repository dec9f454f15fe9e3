"""The test PSAM (docs/card-security.md section 5), from the PSAM's point of view.

SELECT DF01, READ BINARY of the terminal number (SFI 0x16), GET DATA of the algorithms, INIT FOR
DESCRYPT loading Div(MK[usage], F) (and the process key with R), DES CRYPT through 61xx.
"""

from __future__ import annotations

from typing import Any

from drivers.card.emulator.card import Answer, Command, VirtualCard
from drivers.card.emulator.ciphers import Algorithm, cryptogram, diversify
from drivers.card.emulator.encoding import bcd
from drivers.card.emulator.model import KeySet, PsamProfile

__all__ = ["USAGES", "PsamCard"]

USAGES = {0x27: "irk", 0x0A: "rkssse", 0x0B: "uk", 0x0C: "tak"}


class PsamCard(VirtualCard):
    """A PSAM holding the master keys of a key set. Not thread-safe."""

    def __init__(self, profile: PsamProfile, keys: KeySet) -> None:
        super().__init__(
            profile_name=profile.profile_name,
            atr=bytes.fromhex(profile.atr),
            t0_strict=profile.t0_strict,
        )
        self.profile = profile
        self.keys = keys
        self.algorithms = [Algorithm.from_name(a) for a in profile.algorithms]
        self.terminal_number = bcd(profile.terminal_number, 6)
        self._current: tuple[Algorithm, bytes] | None = None
        self.df01_selected = False

    @property
    def declared(self) -> dict[str, Any]:
        """Terminal number, algorithms, key set name."""
        return {k: v for k, v in vars(self.profile).items()}

    def tak(self, alg: Algorithm) -> bytes:
        """The terminal's TAK (kept in its credentials): Div(MK_TAK, 00 00 || TN)."""
        name = "sm4" if alg is Algorithm.SM4 else "3des"
        return diversify(alg, self.keys.master(name, "tak"), b"\x00\x00" + self.terminal_number)

    def on_reset(self) -> None:
        """Power/reset: no current key, MF selected."""
        self._current = None
        self.df01_selected = False

    def handle(self, cmd: Command) -> Answer:
        """PSAM commands."""
        if cmd.cla == 0x00:
            if cmd.ins == 0xA4:
                return self._select(cmd)
            if cmd.ins == 0xB0:
                return self._read_binary(cmd)
            return Answer.error(0x6D00)
        if cmd.cla == 0x80:
            if cmd.ins == 0xCA:
                return self._get_data(cmd)
            if cmd.ins == 0x1A:
                return self._init(cmd)
            if cmd.ins == 0xFA:
                return self._crypt(cmd)
            return Answer.error(0x6D00)
        return Answer.error(0x6E00)

    def _select(self, cmd: Command) -> Answer:
        if cmd.p1 not in (0x00, 0x02) or len(cmd.data) != 2:
            return Answer.error(0x6A86 if cmd.p1 not in (0x00, 0x02) else 0x6700)
        fid = int.from_bytes(cmd.data, "big")
        if fid == 0xDF01:
            self.df01_selected = True
            self._current = None
            return Answer()
        if fid == 0x3F00:
            self.df01_selected = False
            self._current = None
            return Answer()
        return Answer.error(0x6A82)

    def _read_binary(self, cmd: Command) -> Answer:
        if cmd.p1 != 0x96:
            return Answer.error(0x6A82)
        data = self.terminal_number[cmd.p2 :]
        if not data:
            return Answer.error(0x6B00)
        return self.case2(cmd, data) if self.t0_strict else Answer(data)

    def _get_data(self, cmd: Command) -> Answer:
        if cmd.p1 != 0x00 or cmd.p2 != 0xA0:
            return Answer.error(0x6A88)
        algs = bytes(a.value for a in self.algorithms)
        usages = bytes(sorted(USAGES))
        body = (
            bytes([0xA0, len(algs)])
            + algs
            + bytes([0xA1, len(usages)])
            + usages
            + bytes([0xA2, 1, self.profile.key_version])
        )
        return self.case2(cmd, body)

    def _init(self, cmd: Command) -> Answer:
        usage = USAGES.get(cmd.p1)
        if usage is None:
            return Answer.error(0x6A88)
        try:
            alg = Algorithm(cmd.p2)
        except ValueError:
            return Answer.error(0x6A81)
        if alg not in self.algorithms:
            return Answer.error(0x6A81)
        data = bytes(cmd.data)
        if len(data) == 6:
            factor, process = b"\x00\x00" + data, None
        elif len(data) == 8:
            factor, process = data, None
        elif len(data) == 16:
            factor, process = data[:8], data[8:]
        else:
            return Answer.error(0x6700)
        name = "sm4" if alg is Algorithm.SM4 else "3des"
        key = diversify(alg, self.keys.master(name, usage), factor)
        if process is not None:
            key = diversify(alg, key, process)
        self._current = (alg, key)
        return Answer()

    def _crypt(self, cmd: Command) -> Answer:
        if self._current is None:
            return Answer.error(0x6985)
        if not cmd.data:
            return Answer.error(0x6700)
        alg, key = self._current
        return Answer(cryptogram(alg, key, bytes(cmd.data)))
