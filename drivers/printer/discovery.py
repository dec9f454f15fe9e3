"""Finding the receipt printer: a DLE EOT status probe of one serial port (`kiosk provision`)."""

from __future__ import annotations

import dataclasses

from drivers.printer.driver import PrinterDriver, PrinterError, PrinterSettings
from drivers.printer.status import PrinterStatus

__all__ = ["probe_printer"]


def probe_printer(port: str, settings: PrinterSettings) -> PrinterStatus | None:
    """The printer's status if an ESC/POS printer answers the status query on `port`, else None.

    A DLE EOT query is harmless to other devices (and a reply must parse as printer status), so
    probing a port that holds another module costs one status deadline. Never raises.
    """
    driver = PrinterDriver(dataclasses.replace(settings, port=port))
    try:
        return driver.open()
    except (PrinterError, OSError):
        return None
    finally:
        driver.close()
