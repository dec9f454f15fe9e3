"""Core of the kiosk: config, session, services, journal, sync, fleet agent (never Kivy/central)."""
