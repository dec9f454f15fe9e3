"""Card layer: APDU codec, SSC application, PSAM, pyscard reader, emulator."""
