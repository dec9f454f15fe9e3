"""Hardware drivers: card (PC/SC), camera, fingerprint (serial). Never imports kiosk or ui."""
