"""Certificate: what it certifies, masked holder data, and the QR code of its verification
reference (anyone can check it online without the holder's data)."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from ui.screens.base import ViewScreen


class CertificateScreen(ViewScreen):
    qr = StringProperty("")

    def render_more(self, view: Any) -> None:
        self.qr = view.qr or ""

    def wipe_more(self) -> None:
        self.qr = ""
