"""Command line of the kiosk (`kiosk ...`), for technicians, tests and the demo."""
