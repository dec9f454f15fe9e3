"""The social security card OS, written from the card's point of view (reference sections 2-4, 10).

MF / SSSE DDF (selected by its GBK name) / EF05 issuer records, EF06 holder records, EF07, EF08
photo, EF0D, DF01..DF04 (DF04/EF05 = our activation record). PIN (VERIFY, CHANGE PIN), GET
CHALLENGE, EXTERNAL AUTHENTICATE with per-key try counters, INTERNAL AUTHENTICATE, and optionally
the UnionPay debit application on the same chip.
"""

from __future__ import annotations

import hmac
import logging
import os
from pathlib import Path
from typing import Any

from drivers.card.emulator.card import Answer, Command, VirtualCard
from drivers.card.emulator.ciphers import Algorithm, cryptogram, diversify
from drivers.card.emulator.emv import EmvApplet
from drivers.card.emulator.encoding import ascii_field, bcd, gbk_field, split_gbk_name, tlv
from drivers.card.emulator.fs import FREE, Acl, BinaryEF, DedicatedFile, RecordEF
from drivers.card.emulator.model import KeySet, SscProfile

__all__ = ["KID_RKSSSE", "KID_UK", "SSSE_NAME", "SscCard", "pin_bcd"]

_log = logging.getLogger("drivers.card.emulator.ssc")

SSSE_NAME = "sx1.sh.社会保障".encode("gbk")
KID_RKSSSE = 0x0A
KID_UK = 0x0B
_WRITE_ACL: Acl = frozenset({"pin", "key:0B"})
_NEVER: Acl = frozenset({"never"})


def pin_bcd(pin: str) -> bytes:
    """A PIN's packed BCD form ('123456' -> 12 34 56; an odd digit count ends with F)."""
    return bcd(pin)


def _valid_pin_block(block: bytes) -> bool:
    digits = block.hex().upper().rstrip("F")
    return 2 <= len(block) <= 8 and digits.isdigit() and len(digits) >= 4


def _ber_len(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x81, n])


class SscCard(VirtualCard):
    """One social security card built from a profile; mutable like a real card (PIN tries, writes).

    Not thread-safe (the emulator serialises APDUs).
    """

    def __init__(self, profile: SscProfile, keys: KeySet, *, photo: bytes | None = None) -> None:
        super().__init__(
            profile_name=profile.profile_name,
            atr=bytes.fromhex(profile.atr),
            t0_strict=profile.t0_strict,
        )
        self.profile = profile
        self.alg = Algorithm.from_name(profile.algorithm)
        self._pin = profile.pin
        self.pin_tries = profile.pin_tries
        self.pin_enabled = profile.pin_enabled
        factor = profile.card_factor
        alg_name = "sm4" if self.alg is Algorithm.SM4 else "3des"
        self._irk = diversify(self.alg, keys.master(alg_name, "irk"), factor)
        self._keys = {
            KID_RKSSSE: diversify(self.alg, keys.master(alg_name, "rkssse"), factor),
            KID_UK: diversify(self.alg, keys.master(alg_name, "uk"), factor),
        }
        self.key_tries = {kid: profile.key_tries for kid in self._keys}
        self._photo = photo
        self.mf = self._build_fs()
        self.emv = EmvApplet(profile.financial, holder=profile.name) if profile.financial else None
        self.pin_verified = False
        self.authenticated: set[int] = set()
        self.challenge: bytes | None = None
        self.current_df = self.mf
        self.current_ef: RecordEF | BinaryEF | None = None
        self.emv_active = False
        self.on_reset()

    # -- declared content ----------------------------------------------------------------------

    @property
    def declared(self) -> dict[str, Any]:
        """The profile's human-form fields (id_number, name, dates, pin ...)."""
        out: dict[str, Any] = {k: v for k, v in vars(self.profile).items() if not k.startswith("_")}
        out["card_id"] = self.profile.card_id.hex().upper()
        return out

    def enable_pin(self, pin: str | None = None) -> None:
        """Enable the PIN (the issuer's step; until then VERIFY answers 6984)."""
        if pin is not None:
            self._pin = pin
        self.pin_enabled = True
        self.pin_tries = self.profile.pin_max_tries

    @property
    def ssse(self) -> DedicatedFile:
        """The SSSE DDF."""
        node = self.mf.find_child(0x5353)
        assert isinstance(node, DedicatedFile)
        return node

    def activation_record(self) -> bytes | None:
        """DF04/EF05 record 1 as stored (for tests of the write path)."""
        df04 = self.ssse.find_child(0xDF04)
        assert isinstance(df04, DedicatedFile)
        ef = df04.find_child(0xEF05)
        assert isinstance(ef, RecordEF)
        return ef.by_number(1)

    # -- file system ---------------------------------------------------------------------------

    def _record(self, ef: str, tag: int, value: bytes) -> bytes:
        raw = self.profile.raw_records.get(f"{ef}/{tag:02X}")
        return bytes.fromhex(raw) if raw is not None else tlv(tag, value)

    def _build_fs(self) -> DedicatedFile:
        p = self.profile
        mf = DedicatedFile(0x3F00)
        fci_prop = b"\x9f\x0c\x03\x86\x01" + bytes([self.alg.value])
        fci_body = (
            b"\x84"
            + bytes([len(SSSE_NAME)])
            + SSSE_NAME
            + b"\xa5"
            + _ber_len(len(fci_prop))
            + fci_prop
        )
        ssse = DedicatedFile(
            0x5353, name=SSSE_NAME, fci=b"\x6f" + _ber_len(len(fci_body)) + fci_body
        )
        mf.add(ssse)

        ef05 = [
            self._record("EF05", 0x01, p.card_id),
            self._record("EF05", 0x02, ascii_field(p.card_type, 1)),
            self._record("EF05", 0x03, ascii_field(p.spec_version, 4)),
            self._record("EF05", 0x04, bcd(p.init_org, 12)),
            self._record("EF05", 0x05, bcd(p.issue_date, 4)),
            self._record("EF05", 0x06, bcd(p.expiry_date, 4)),
            self._record("EF05", 0x07, ascii_field(p.card_number, 9)),
        ]
        ssse.add(RecordEF(0xEF05, list(ef05)))

        head, rest = split_gbk_name(p.name, 30)
        want_ext = p.name_extension == "always" or (p.name_extension == "auto" and bool(rest))
        if rest and p.name_extension == "never":
            raise ValueError(f"profile {p.profile_name}: name needs the 4E extension")
        ext: bytes | None = (
            self._record("EF06", 0x4E, rest + b"\x00" * (20 - len(rest))) if want_ext else None
        )
        if len(rest) > 20:
            raise ValueError(f"profile {p.profile_name}: name longer than 50 GBK bytes")
        ef06: list[bytes | None] = [
            self._record("EF06", 0x08, ascii_field(p.id_number, 18)),
            self._record("EF06", 0x09, head + b"\x00" * (30 - len(head))),
            ext,
            self._record("EF06", 0x0A, ascii_field(p.sex, 1)),
            self._record("EF06", 0x0B, bcd(p.ethnicity, 1)),
            self._record("EF06", 0x0C, bcd(p.birthplace, 3)),
            self._record("EF06", 0x0D, bcd(p.birth_date, 4)),
        ]
        protected: Acl = frozenset({"key:0A"})
        ssse.add(RecordEF(0xEF06, ef06, read_acl=protected if p.rkssse_protected else FREE))
        ssse.add(BinaryEF(0xEF07, bytearray(0x300), read_acl=protected))
        photo = self._photo or b""
        size = max(0x100, (len(photo) + 0xFF) // 0x100 * 0x100)
        ssse.add(
            BinaryEF(0xEF08, bytearray(photo + b"\x00" * (size - len(photo))), read_acl=protected)
        )
        ssse.add(
            RecordEF(
                0xEF0D,
                [
                    tlv(0xEA, ascii_field("SSK-TEST-001", 12)),
                    tlv(0xEB, bcd(p.region, 3)),
                    tlv(0xEC, b"1"),
                    tlv(0xED, b"0"),
                ],
            )
        )
        pin_acl: Acl = frozenset({"pin"})
        df01 = DedicatedFile(0xDF01)
        df01.add(
            RecordEF(
                0xEF05,
                [
                    tlv(0x20, b"01"),
                    tlv(0x21, gbk_field("社会保障卡测试单位", 0x50)),
                    tlv(0x0E, bcd(p.region, 3)),
                ],
                read_acl=pin_acl,
            )
        )
        ssse.add(df01)
        for fid in (0xDF02, 0xDF03):
            df = DedicatedFile(fid)
            df.add(RecordEF(0xEF05, [tlv(0x20, b"00")], read_acl=pin_acl))
            ssse.add(df)
        df04 = DedicatedFile(0xDF04)
        initial = (
            bytes.fromhex(p.activation)
            if p.activation
            else tlv(0x60, b"\x00" + bytes(4) + bytes(6) + bytes(8))
        )
        df04.add(RecordEF(0xEF05, [initial], read_acl=pin_acl, write_acl=_WRITE_ACL))
        ssse.add(df04)
        return mf

    # -- state ---------------------------------------------------------------------------------

    def on_reset(self) -> None:
        """New card session: MF selected, no PIN, no key states, no challenge."""
        self.pin_verified = False
        self.authenticated = set()
        self.challenge = None
        self.current_df = self.mf
        self.current_ef = None
        self.emv_active = False
        if self.emv is not None:
            self.emv.deselect()

    def _allowed(self, acl: Acl) -> bool:
        for need in acl:
            if need == "never":
                return False
            if need == "pin" and not self.pin_verified:
                return False
            if need.startswith("key:") and int(need[4:], 16) not in self.authenticated:
                return False
        return True

    # -- dispatch ------------------------------------------------------------------------------

    def handle(self, cmd: Command) -> Answer:
        """One command from the terminal (GET RESPONSE is the base class's)."""
        if cmd.cla not in (0x00, 0x80, 0x84):
            return Answer.error(0x6E00)
        if cmd.ins == 0xA4 and cmd.cla == 0x00:
            return self._select(cmd)
        if self.emv_active and self.emv is not None:
            return self.emv.handle(cmd, self)
        if cmd.cla == 0x80:
            if cmd.ins == 0x5E:
                return self._change_pin(cmd)
            return Answer.error(0x6D00 if cmd.ins not in _ISO_INS else 0x6E00)
        if cmd.cla == 0x84:
            return Answer.error(0x6D00 if cmd.ins not in _ISO_INS else 0x6E00)
        handler = {
            0xB2: self._read_record,
            0xB0: self._read_binary,
            0xDC: self._update_record,
            0xD6: self._update_binary,
            0x20: self._verify,
            0x84: self._get_challenge,
            0x82: self._external_authenticate,
            0x88: self._internal_authenticate,
        }.get(cmd.ins)
        if handler is None:
            return Answer.error(0x6E00 if cmd.ins == 0x5E else 0x6D00)
        return handler(cmd)

    # -- SELECT --------------------------------------------------------------------------------

    def _enter_df(self, df: DedicatedFile) -> None:
        if df is not self.current_df:
            # Key security states belong to the DF they were obtained in.
            self.authenticated = set()
        self.current_df = df
        self.current_ef = None
        self.emv_active = False

    def _select(self, cmd: Command) -> Answer:
        if cmd.p1 == 0x04:
            if not cmd.data:
                return Answer.error(0x6700)
            if cmd.data == SSSE_NAME:
                # Selecting an application (even the current one) starts it afresh.
                self.authenticated = set()
                self._enter_df(self.ssse)
                return Answer() if cmd.p2 & 0x0C == 0x0C else Answer(self.ssse.fci)
            if self.emv is not None:
                fci = self.emv.select(cmd.data)
                if fci is not None:
                    self.authenticated = set()
                    self.current_ef = None
                    self.emv_active = True
                    return Answer(fci)
            return Answer.error(0x6A82)
        if cmd.p1 not in (0x00, 0x01, 0x02):
            return Answer.error(0x6A86)
        if not cmd.data:
            if cmd.p1 == 0x00:
                self._enter_df(self.mf)
                return Answer()
            return Answer.error(0x6700)
        if len(cmd.data) != 2:
            return Answer.error(0x6700)
        fid = int.from_bytes(cmd.data, "big")
        if fid == 0x3F00:
            self._enter_df(self.mf)
            return Answer()
        node = self._find(fid)
        if node is None:
            return Answer.error(0x6A82)
        if isinstance(node, DedicatedFile):
            self._enter_df(node)
            return Answer()
        self.emv_active = False
        self.current_ef = node
        if isinstance(node, BinaryEF) and cmd.p2 & 0x0C != 0x0C:
            return Answer(node.fcp)
        return Answer()

    def _find(self, fid: int) -> DedicatedFile | RecordEF | BinaryEF | None:
        df: DedicatedFile | None = self.current_df
        while df is not None:
            node = df.find_child(fid)
            if node is not None:
                return node
            df = df.parent
        for d in self.mf.walk():
            if d.fid == fid:
                return d
        return None

    # -- records and binaries ------------------------------------------------------------------

    def _ef_for(
        self, sfi: int, kind: type[RecordEF] | type[BinaryEF]
    ) -> RecordEF | BinaryEF | Answer:
        if sfi:
            ef = self.current_df.find_sfi(sfi)
            if ef is None:
                return Answer.error(0x6A82)
            self.current_ef = ef
        ef = self.current_ef
        if ef is None:
            return Answer.error(0x6986)
        if not isinstance(ef, kind):
            return Answer.error(0x6981)
        return ef

    def _read_record(self, cmd: Command) -> Answer:
        ef = self._ef_for(cmd.p2 >> 3, RecordEF)
        if isinstance(ef, Answer):
            return ef
        assert isinstance(ef, RecordEF)
        if not self._allowed(ef.read_acl):
            return Answer.error(0x6982)
        mode = cmd.p2 & 0x07
        if cmd.p1 == 0 or mode not in (0, 4):
            return Answer.error(0x6A86)
        rec = ef.by_number(cmd.p1) if mode == 4 else ef.by_tag(cmd.p1)
        if rec is None:
            return Answer.error(0x6A83)
        return self.case2(cmd, rec)

    def _read_binary(self, cmd: Command) -> Answer:
        if cmd.p1 & 0x80:
            ef = self._ef_for(cmd.p1 & 0x1F, BinaryEF)
            offset = cmd.p2
        else:
            ef = self._ef_for(0, BinaryEF)
            offset = (cmd.p1 << 8) | cmd.p2
        if isinstance(ef, Answer):
            return ef
        assert isinstance(ef, BinaryEF)
        if not self._allowed(ef.read_acl):
            return Answer.error(0x6982)
        if offset >= len(ef.data):
            return Answer.error(0x6B00)
        le = cmd.le or 256
        remaining = len(ef.data) - offset
        if le > remaining:
            if self.t0_strict:
                return Answer.error(0x6C00 | (remaining & 0xFF))
            le = remaining
        return Answer(bytes(ef.data[offset : offset + le]))

    def _update_record(self, cmd: Command) -> Answer:
        ef = self._ef_for(cmd.p2 >> 3, RecordEF)
        if isinstance(ef, Answer):
            return ef
        assert isinstance(ef, RecordEF)
        if cmd.p2 & 0x07 != 0x04 or cmd.p1 == 0:
            return Answer.error(0x6A86)
        if not self._allowed(ef.write_acl):
            return Answer.error(0x6982)
        if not cmd.data or len(cmd.data) < 2 or cmd.data[1] != len(cmd.data) - 2:
            return Answer.error(0x6A80)
        old = ef.by_number(cmd.p1)
        if old is None:
            return Answer.error(0x6A83)
        if len(old) != len(cmd.data):
            return Answer.error(0x6700)
        ef.records[cmd.p1 - 1] = bytes(cmd.data)
        return Answer()

    def _update_binary(self, cmd: Command) -> Answer:
        ef = self._ef_for(0, BinaryEF)
        if isinstance(ef, Answer):
            return ef
        assert isinstance(ef, BinaryEF)
        if not self._allowed(ef.write_acl):
            return Answer.error(0x6982)
        offset = (cmd.p1 << 8) | cmd.p2
        if offset + len(cmd.data) > len(ef.data):
            return Answer.error(0x6B00)
        ef.data[offset : offset + len(cmd.data)] = cmd.data
        return Answer()

    # -- PIN -----------------------------------------------------------------------------------

    def _check_pin(self, block: bytes) -> Answer | None:
        """None if right; the error answer otherwise (tries counted)."""
        if not self.pin_enabled:
            return Answer.error(0x6984)
        if self.pin_tries <= 0:
            return Answer.error(0x6983)
        if hmac.compare_digest(block, pin_bcd(self._pin)):
            self.pin_tries = self.profile.pin_max_tries
            return None
        self.pin_tries -= 1
        self.pin_verified = False
        return Answer.error(0x63C0 | self.pin_tries)

    def _verify(self, cmd: Command) -> Answer:
        if cmd.p1 != 0x00 or cmd.p2 != 0x00:
            return Answer.error(0x6A86)
        if not cmd.data:
            # ISO 7816-4: VERIFY without data asks for the remaining tries.
            if not self.pin_enabled:
                return Answer.error(0x6984)
            if self.pin_verified:
                return Answer()
            return Answer.error(0x6983 if self.pin_tries <= 0 else 0x63C0 | self.pin_tries)
        bad = self._check_pin(bytes(cmd.data))
        if bad is not None:
            return bad
        self.pin_verified = True
        return Answer()

    def _change_pin(self, cmd: Command) -> Answer:
        if cmd.p1 != 0x01 or cmd.p2 != 0x00:
            return Answer.error(0x6A86)
        data = bytes(cmd.data)
        if b"\xff" not in data:
            return Answer.error(0x6A80)
        old, new = data.split(b"\xff", 1)
        if not old or not _valid_pin_block(new):
            return Answer.error(0x6A80)
        bad = self._check_pin(old)
        if bad is not None:
            return bad
        self._pin = new.hex().upper().rstrip("F")
        self.pin_verified = True
        return Answer()

    # -- authentication ------------------------------------------------------------------------

    def _get_challenge(self, cmd: Command) -> Answer:
        if cmd.p1 or cmd.p2:
            return Answer.error(0x6A86)
        if cmd.le not in (4, 8, 16):
            return Answer.error(0x6700)
        self.challenge = os.urandom(cmd.le)
        return Answer(self.challenge)

    def _external_authenticate(self, cmd: Command) -> Answer:
        if cmd.p1 != 0x00:
            return Answer.error(0x6A86)
        key = self._keys.get(cmd.p2)
        if key is None:
            return Answer.error(0x6A88)
        if self.key_tries[cmd.p2] <= 0:
            return Answer.error(0x6983)
        challenge, self.challenge = self.challenge, None
        if challenge is None:
            return Answer.error(0x6984)
        if len(cmd.data) != self.alg.block:
            return Answer.error(0x6700)
        if hmac.compare_digest(bytes(cmd.data), cryptogram(self.alg, key, challenge)):
            self.key_tries[cmd.p2] = self.profile.key_tries
            self.authenticated.add(cmd.p2)
            return Answer()
        self.key_tries[cmd.p2] -= 1
        return Answer.error(0x63C0 | self.key_tries[cmd.p2])

    def _internal_authenticate(self, cmd: Command) -> Answer:
        if cmd.p1 or cmd.p2:
            return Answer.error(0x6A86)
        if len(cmd.data) != 16:
            return Answer.error(0x6700)
        process, source = bytes(cmd.data[:8]), bytes(cmd.data[8:])
        session = diversify(self.alg, self._irk, process)
        return Answer(cryptogram(self.alg, session, source))


_ISO_INS = {0xA4, 0xB2, 0xB0, 0xDC, 0xD6, 0x20, 0x84, 0x82, 0x88, 0xC0}


def load_photo(path: Path | None) -> bytes | None:
    """The photo file's bytes, or None."""
    if path is None:
        return None
    data = path.read_bytes()
    _log.debug("photo %s: %d bytes", path.name, len(data))
    return data
