"""Kivy touch UI (arrives with the citizen journeys); imports kiosk only."""
