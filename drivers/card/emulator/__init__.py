"""Card emulator: SSC, PSAM and bank card OSes behind a vpcd (vsmartcard) slot; profiles, faults.

The product part behind demo mode and every card test: pyscard -> pcscd -> vpcd -> here.
"""

from __future__ import annotations

from drivers.card.emulator.card import VirtualCard
from drivers.card.emulator.faults import Fault
from drivers.card.emulator.profiles import (
    PROFILE_DIR,
    ProfileError,
    list_profiles,
    load_key_set,
    load_profile,
    read_profile,
)
from drivers.card.emulator.server import CardEmulator

__all__ = [
    "PROFILE_DIR",
    "CardEmulator",
    "Fault",
    "ProfileError",
    "VirtualCard",
    "list_profiles",
    "load_key_set",
    "load_profile",
    "read_profile",
]
