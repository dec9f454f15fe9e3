"""An ESC/POS interpreter: the printer's side of the byte stream, as paper. Pure.

Understands the subset the kiosk and python-escpos send (docs/receipt-printer.md): ESC @,
LF/CR, ESC d/J, ESC a/E/!/-/M/2/3, GS !, ESC t with FS & / FS . (GB18030 pairs), GS v 0
raster images, GS ( k QR functions 165-181, GS V cuts and DLE EOT real-time queries (answered
by the caller). Anything else is counted in `unknown` and skipped, never guessed at. Input is
fed in chunks of any size; a command split across chunks waits for its rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Interpreter", "PaperQr", "PaperRaster", "PrintedLine", "Receipt", "Run"]

_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    bold: bool
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class PrintedLine:
    runs: tuple[Run, ...]
    align: str

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True, slots=True)
class PaperQr:
    data: str
    module: int
    ec: str
    align: str


@dataclass(frozen=True, slots=True)
class PaperRaster:
    width_bytes: int
    height: int
    bits: bytes
    align: str


PaperItem = PrintedLine | PaperQr | PaperRaster


@dataclass
class Receipt:
    """The paper between two cuts."""

    items: list[PaperItem] = field(default_factory=list)
    cut: bool = False

    @property
    def text(self) -> str:
        out = []
        for item in self.items:
            if isinstance(item, PrintedLine):
                out.append(item.text)
            elif isinstance(item, PaperQr):
                out.append(f"[QR {item.data}]")
            else:
                out.append(f"[image {item.width_bytes * 8}x{item.height}]")
        return "\n".join(out)


class Interpreter:
    """Feeds bytes, keeps the paper. `on_status(n)` is called for each DLE EOT n seen."""

    MAX_PENDING = 1 << 20  # a raster image of 576 x 14,000 dots; more is a broken stream

    def __init__(self) -> None:
        self.receipts: list[Receipt] = [Receipt()]
        self.unknown = 0
        self.status_queries: list[int] = []
        self._buf = bytearray()
        self._reset_style()
        self._qr_store = b""
        self._qr_module = 3
        self._qr_ec = "L"
        self.lines_printed = 0

    def _reset_style(self) -> None:
        self.bold = False
        self.width = self.height = 1
        self.align = "left"
        self.chinese = False
        self._runs: list[Run] = []
        self._text = bytearray()

    @property
    def current(self) -> Receipt:
        return self.receipts[-1]

    @property
    def finished(self) -> list[Receipt]:
        """The receipts that have been cut."""
        return [r for r in self.receipts if r.cut]

    def feed(self, data: bytes) -> list[int]:
        """Interpret `data`; returns the DLE EOT queries (n) met in it, in order."""
        self._buf += data
        if len(self._buf) > self.MAX_PENDING:
            self.unknown += 1
            self._buf.clear()
        queries: list[int] = []
        while self._buf:
            used = self._step(queries)
            if used == 0:
                break
            del self._buf[:used]
        return queries

    # --- text ---------------------------------------------------------------------------------

    def _flush_run(self) -> None:
        if not self._text:
            return
        raw = bytes(self._text)
        text = raw.decode("gb18030", errors="replace") if self.chinese else raw.decode("cp437")
        self._runs.append(Run(text, self.bold, self.width, self.height))
        self._text.clear()

    def _newline(self) -> None:
        self._flush_run()
        self.current.items.append(PrintedLine(tuple(self._runs), self.align))
        self._runs = []
        self.lines_printed += 1

    def _style(self, **changes: object) -> None:
        self._flush_run()
        for name, value in changes.items():
            setattr(self, name, value)

    # --- commands -----------------------------------------------------------------------------

    def _step(self, queries: list[int]) -> int:
        b = self._buf
        c = b[0]
        if c == 0x0A:
            self._newline()
            return 1
        if c == 0x0D:
            return 1
        if c == 0x10:  # DLE EOT n
            if len(b) < 3:
                return 0
            if b[1] == 0x04:
                queries.append(b[2])
                self.status_queries.append(b[2])
                return 3
            self.unknown += 1
            return 1
        if c == 0x1B:
            return self._esc(queries)
        if c == 0x1D:
            return self._gs()
        if c == 0x1C:
            if len(b) < 2:
                return 0
            if b[1] == 0x26:
                self._style(chinese=True)
                return 2
            if b[1] == 0x2E:
                self._style(chinese=False)
                return 2
            self.unknown += 1
            return 2
        if c < 0x20:
            self.unknown += 1
            return 1
        # Printable: in Chinese mode a byte >= 0x81 starts a 2- or 4-byte GB18030 character.
        if self.chinese and c >= 0x81:
            if len(b) < 2:
                return 0
            n = 4 if 0x30 <= b[1] <= 0x39 else 2
            if len(b) < n:
                return 0
            self._text += b[:n]
            return n
        self._text.append(c)
        return 1

    def _esc(self, queries: list[int]) -> int:
        b = self._buf
        if len(b) < 2:
            return 0
        cmd = b[1]
        if cmd == 0x40:  # ESC @
            self._flush_run()
            if self._runs:
                self._newline()
            self._reset_style()
            return 2
        if cmd in (0x32,):  # ESC 2: default line spacing
            return 2
        if len(b) < 3:
            return 0
        n = b[2]
        if cmd == 0x64:  # ESC d n: print and feed n lines
            self._newline()
            for _ in range(max(n - 1, 0)):
                self._newline()
            return 3
        if cmd == 0x4A:  # ESC J n: feed n dots
            self._newline()
            return 3
        if cmd == 0x61:
            self._style(align=_ALIGN.get(n, "left"))
            return 3
        if cmd == 0x45:
            self._style(bold=bool(n & 1))
            return 3
        if cmd == 0x21:  # ESC ! n: print mode
            self._style(
                bold=bool(n & 0x08), height=2 if n & 0x10 else 1, width=2 if n & 0x20 else 1
            )
            return 3
        if cmd in (0x2D, 0x4D, 0x33, 0x74, 0x47, 0x7B, 0x56, 0x20):  # underline, font, spacing...
            return 3
        self.unknown += 1
        return 2

    def _gs(self) -> int:
        b = self._buf
        if len(b) < 2:
            return 0
        cmd = b[1]
        if cmd == 0x21:  # GS ! n
            if len(b) < 3:
                return 0
            n = b[2]
            self._style(width=(n >> 4) + 1, height=(n & 0x0F) + 1)
            return 3
        if cmd == 0x56:  # GS V m [n]
            if len(b) < 3:
                return 0
            m = b[2]
            used = 4 if m in (65, 66, 97, 98, 103, 104) else 3
            if len(b) < used:
                return 0
            self._flush_run()
            if self._runs:
                self._newline()
            self.current.cut = True
            self.receipts.append(Receipt())
            return used
        if cmd == 0x76:  # GS v 0 m xL xH yL yH data
            if len(b) < 8:
                return 0
            xbytes = b[4] | b[5] << 8
            height = b[6] | b[7] << 8
            size = 8 + xbytes * height
            if len(b) < size:
                return 0
            self._flush_run()
            self.current.items.append(PaperRaster(xbytes, height, bytes(b[8:size]), self.align))
            return size
        if cmd == 0x28 and len(b) >= 3 and b[2] == 0x6B:  # GS ( k pL pH cn fn ...
            if len(b) < 5:
                return 0
            length = b[3] | b[4] << 8
            if len(b) < 5 + length:
                return 0
            self._qr(bytes(b[5 : 5 + length]))
            return 5 + length
        if cmd in (0x42, 0x48, 0x66, 0x68, 0x77, 0x4C, 0x57, 0x72, 0x61):  # one-byte arguments
            return 3 if len(b) >= 3 else 0
        self.unknown += 1
        return 2

    def _qr(self, body: bytes) -> None:
        if len(body) < 2 or body[0] != 0x31:
            self.unknown += 1
            return
        fn = body[1]
        if fn == 0x43 and len(body) >= 3:  # 167: module size
            self._qr_module = body[2]
        elif fn == 0x45 and len(body) >= 3:  # 169: error correction
            self._qr_ec = {0x30: "L", 0x31: "M", 0x32: "Q", 0x33: "H"}.get(body[2], "L")
        elif fn == 0x50 and len(body) >= 3:  # 180: store
            self._qr_store = body[3:]
        elif fn == 0x51:  # 181: print
            self._flush_run()
            data = self._qr_store.decode("utf-8", errors="replace")
            self.current.items.append(PaperQr(data, self._qr_module, self._qr_ec, self.align))
