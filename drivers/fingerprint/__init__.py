"""Fingerprint layer: ZhianTec/Synochip codec, pyserial driver, pty emulator."""
