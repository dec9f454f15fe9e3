"""PSAM section: where the PSAM sits, and what a production terminal requires it to prove."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints

from drivers.card.crypto import Algorithm
from kiosk.config.base import ConfigSection

if TYPE_CHECKING:
    from drivers.card.security import TrustPolicy

__all__ = ["PsamConfig", "TakCredentialError"]

HexAtr = Annotated[str, StringConstraints(pattern=r"^([0-9A-Fa-f]{2}){2,33}$")]


class TakCredentialError(Exception):
    """The terminal's TAK credential is missing or unreadable (production needs it)."""

    code = "card.psam_untrusted"


class PsamConfig(ConfigSection):
    """The PSAM in the reader's second slot (docs/card-security.md §5-§6)."""

    enabled: bool = Field(
        default=True,
        title="Use a PSAM",
        description="false = no PSAM: cards are not authenticated and 3rd-gen holder data is "
        "not readable.",
    )
    reader: str = Field(
        default="",
        title="PSAM reader name",
        description="Substring of the PSAM's PC/SC reader name; empty = the reader at `slot`.",
    )
    slot: int = Field(
        default=1,
        ge=0,
        le=15,
        title="PSAM slot",
        description="Index in the reader list when no name.",
    )
    tak_algorithm: Literal["sm4", "3des"] = Field(
        default="sm4",
        title="TAK algorithm",
        description="Cipher of the terminal authentication key.",
    )
    tak_kcv: str = Field(
        default="",
        pattern=r"^([0-9A-Fa-f]{6})?$",
        title="TAK key check value",
        description="First 3 bytes (hex) of E_TAK(0…0); required in production mode.",
    )
    tak_credential: str = Field(
        default="psam-tak",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        title="TAK credential name",
        description="File in $CREDENTIALS_DIRECTORY holding the terminal's TAK in hex.",
    )
    trusted_readers: tuple[str, ...] = Field(
        default=(), title="Trusted PSAM reader names", description="Empty = any (production only)."
    )
    trusted_atrs: tuple[HexAtr, ...] = Field(
        default=(), title="Trusted PSAM ATRs (hex)", description="Empty = any (production only)."
    )
    internal_auth: bool = Field(
        default=True,
        title="Authenticate every card",
        description="INTERNAL AUTHENTICATE before reads.",
    )

    def algorithm(self) -> Algorithm:
        """The TAK's cipher as the driver names it."""
        return Algorithm.SM4 if self.tak_algorithm == "sm4" else Algorithm.TDES

    def load_tak(self, env: Mapping[str, str] | None = None) -> bytes | None:
        """The terminal's TAK from systemd credentials, or None when no credentials folder.

        Raises `TakCredentialError` when the folder is set but the file is missing or not
        32 hex digits. Called by the composition root / CLI, never at import.
        """
        env = os.environ if env is None else env
        folder = env.get("CREDENTIALS_DIRECTORY")
        if not folder:
            return None
        path = Path(folder) / self.tak_credential
        try:
            text = path.read_text().strip()
        except OSError as e:
            raise TakCredentialError(f"TAK credential {path}: {e.strerror}") from None
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise TakCredentialError(f"TAK credential {path} is not hex") from None
        if len(key) != 16:
            raise TakCredentialError(f"TAK credential {path} is {len(key)} bytes, not 16")
        return key

    def trust_policy(self, *, production: bool, tak: bytes | None) -> TrustPolicy:
        """The frozen policy the driver checks PSAMs against."""
        # Imported here: the config model stays importable without the PC/SC stack.
        from drivers.card.security import TrustPolicy

        return TrustPolicy(
            production=production,
            tak_algorithm=self.algorithm(),
            tak=tak,
            tak_kcv=bytes.fromhex(self.tak_kcv) if self.tak_kcv else None,
            trusted_readers=self.trusted_readers,
            trusted_atrs=tuple(bytes.fromhex(a) for a in self.trusted_atrs),
        )
