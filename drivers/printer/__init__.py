"""Receipt printer: ESC/POS documents (built with python-escpos), a real-time status reader,
a pyserial driver, and an emulator that turns the byte stream into a picture of the paper."""
