"""Card layer: APDU codec, SSC application, PSAM, pyscard reader, emulator.

Pure codecs (no I/O): `apdu`, `status`, `errors`, `tlv`, `bcd`, `holder`, `pinpad` (structure
builders). I/O: `transport` (`CardChannel`, `PcscChannel`: T=0 handling, deadlines, tracer),
`reader` (list, wait, connect), `monitor` (events + supervisor), `ssc` (`SscApplication`),
`driver` (`CardDriver`, `CardSession`: the facade kiosk/ and the CLI use). Security (PSAM,
authentication, photo, activation, bank card) and the emulator sit beside them.

Threads: `CardMonitor` runs one thread asleep in SCardGetStatusChange; each `PcscChannel` has
one I/O thread so that a silent card hits a deadline; everything else runs on the caller's
thread. pyscard types never leave this package.
"""
