"""Receipt printer section [printer] (owned by the printer layer)."""

from __future__ import annotations

from pydantic import Field, field_validator

from drivers.printer.driver import PrinterSettings
from kiosk.config.base import ConfigSection

__all__ = ["PrinterConfig"]

_RATES = (9600, 19200, 38400, 57600, 115200)


class PrinterConfig(ConfigSection):
    """The thermal receipt printer (ESC/POS on a serial line). Durations are in seconds."""

    enabled: bool = Field(
        default=True, title="The terminal has a receipt printer (false: receipts as QR only)"
    )
    port: str = Field(
        default="/dev/receipt-printer",
        title="Serial port",
        description="Stable name from a udev rule (USB-serial adapter), or a pty symlink.",
    )
    baudrate: int = Field(default=115200, title="Baud rate")
    status_timeout_s: float = Field(
        default=0.3, gt=0, le=5, title="Deadline of one DLE EOT status answer"
    )
    slice_bytes: int = Field(
        default=512, ge=64, le=65536, title="Bytes sent between two status checks"
    )
    write_timeout_s: float = Field(default=5.0, gt=0, le=60, title="Deadline of one write")
    paper_width_mm: int = Field(default=80, title="Paper width: 80 or 58 mm")

    @field_validator("baudrate")
    @classmethod
    def _known_rate(cls, value: int) -> int:
        if value not in _RATES:
            raise ValueError(f"a receipt printer runs at one of {', '.join(map(str, _RATES))}")
        return value

    @field_validator("paper_width_mm")
    @classmethod
    def _known_width(cls, value: int) -> int:
        if value not in (58, 80):
            raise ValueError("thermal receipt paper is 58 or 80 mm wide")
        return value

    @property
    def paper_dots(self) -> int:
        """Printable dots at 203 dpi: 576 on 80 mm paper, 384 on 58 mm."""
        return 576 if self.paper_width_mm == 80 else 384

    def to_settings(self, *, port: str | None = None) -> PrinterSettings:
        return PrinterSettings(
            port=port or self.port,
            baudrate=self.baudrate,
            status_timeout=self.status_timeout_s,
            slice_bytes=self.slice_bytes,
            write_timeout=self.write_timeout_s,
            paper_dots=self.paper_dots,
        )
