"""Core of the kiosk: config, session, services, journal, sync, fleet agent. Never imports Kivy or central."""
