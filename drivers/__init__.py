"""Hardware drivers: card (PC/SC), camera (OpenCV), fingerprint (serial). Imports nothing of kiosk or ui."""
