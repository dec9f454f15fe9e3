"""Kiosk services: what a citizen journey asks of the central system and the devices."""
