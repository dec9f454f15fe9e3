"""Resident ID card reader (SAM_A module on a serial line): frame codec, text layouts, driver,
emulator. The WLT photo is carried as opaque bytes for a licensed decoder; none ships."""
