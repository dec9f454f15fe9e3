"""The card's file system: DFs selected by FID or name, record EFs and transparent EFs.

Access conditions are sets of requirements: "pin" (VERIFY done in this card session) and
"key:XX" (EXTERNAL AUTHENTICATE with KID XX done since the DF was selected); "never" forbids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FREE", "Acl", "BinaryEF", "DedicatedFile", "RecordEF"]

Acl = frozenset[str]
FREE: Acl = frozenset()


@dataclass
class RecordEF:
    """A linear record file; record n is `records[n-1]` (None = no such record)."""

    fid: int
    records: list[bytes | None]
    read_acl: Acl = FREE
    write_acl: Acl = frozenset({"never"})

    @property
    def sfi(self) -> int:
        """Short file identifier: the low 5 bits of the FID (EF05 -> 5)."""
        return self.fid & 0x1F

    def by_number(self, number: int) -> bytes | None:
        """Record `number` (1-based) or None."""
        if 1 <= number <= len(self.records):
            return self.records[number - 1]
        return None

    def by_tag(self, tag: int) -> bytes | None:
        """First record whose TLV tag is `tag`, or None."""
        for rec in self.records:
            if rec and rec[0] == tag:
                return rec
        return None


@dataclass
class BinaryEF:
    """A transparent file, READ BINARY by offset. `fcp` is its SELECT answer."""

    fid: int
    data: bytearray
    read_acl: Acl = FREE
    write_acl: Acl = frozenset({"never"})

    @property
    def sfi(self) -> int:
        """Short file identifier: the low 5 bits of the FID."""
        return self.fid & 0x1F

    @property
    def fcp(self) -> bytes:
        """62 L 80 02 <size> 82 01 01 83 02 <fid> (docs/card-security.md section 4)."""
        body = (
            b"\x80\x02"
            + len(self.data).to_bytes(2, "big")
            + b"\x82\x01\x01\x83\x02"
            + self.fid.to_bytes(2, "big")
        )
        return b"\x62" + bytes([len(body)]) + body


@dataclass
class DedicatedFile:
    """A DF (or the MF): children by FID, an optional name (AID) and FCI for SELECT by name."""

    fid: int | None
    name: bytes | None = None
    fci: bytes = b""
    children: dict[int, DedicatedFile | RecordEF | BinaryEF] = field(default_factory=dict)
    parent: DedicatedFile | None = field(default=None, repr=False)

    def add(self, child: DedicatedFile | RecordEF | BinaryEF) -> None:
        """Attach a child (its FID must be set)."""
        assert child.fid is not None
        self.children[child.fid] = child
        if isinstance(child, DedicatedFile):
            child.parent = self

    def find_child(self, fid: int) -> DedicatedFile | RecordEF | BinaryEF | None:
        """A child by FID, or None."""
        return self.children.get(fid)

    def find_sfi(self, sfi: int) -> RecordEF | BinaryEF | None:
        """A child EF by short file identifier."""
        for child in self.children.values():
            if isinstance(child, RecordEF | BinaryEF) and child.sfi == sfi:
                return child
        return None

    def walk(self) -> list[DedicatedFile]:
        """This DF and every DF below it."""
        out = [self]
        for child in self.children.values():
            if isinstance(child, DedicatedFile):
                out.extend(child.walk())
        return out
