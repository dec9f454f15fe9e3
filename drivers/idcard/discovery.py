"""Finding the ID card reader: a SAM status probe of one serial port (used by `kiosk provision`)."""

from __future__ import annotations

import dataclasses

from drivers.idcard.driver import IdCardReader
from drivers.idcard.errors import IdCardError
from drivers.idcard.settings import IdCardSettings

__all__ = ["probe_idcard"]


def probe_idcard(port: str, settings: IdCardSettings) -> str | None:
    """The SAM id if an ID card reader module answers on `port`, else None.

    No retries and no reopen, so a port with nothing (or another device) on it costs about one
    status deadline. Never raises for a silent, absent or foreign port.
    """
    quick = dataclasses.replace(settings, port=port, retries=0, reopen_attempts=1)
    reader = IdCardReader(quick)
    try:
        reader.open()
        return reader.sam_id()
    except (IdCardError, OSError):
        return None
    finally:
        reader.close()
