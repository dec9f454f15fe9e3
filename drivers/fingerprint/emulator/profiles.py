"""Model profiles of the emulated module: capacity, template size, command set, timings."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PROFILES", "ModelProfile", "get_profile"]

# Instruction codes every EF01 module answers (ZFM-20 manual §6.4.2, docs/fingerprint-module.md
# §1.4 "classic").
_CLASSIC = frozenset(
    {
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0C, 0x0D, 0x0E, 0x0F,
        0x12, 0x13, 0x14, 0x15, 0x1D, 0x1F,
    }
)  # fmt: skip
_R30X = _CLASSIC | {0x17, 0x18, 0x19, 0x1B}
_AS608 = _R30X | {0x10, 0x11, 0x16, 0x53}
_R503 = _CLASSIC | {0x18, 0x19, 0x1B, 0x28, 0x35, 0x36, 0x3C, 0x3D, 0x40, 0x53}

# Typical module latencies in seconds (docs/fingerprint-module.md §1.8), before the latency scale
# is applied.
_LATENCY = {0x01: 0.3, 0x02: 0.4, 0x03: 0.05, 0x04: 0.3, 0x05: 0.1, 0x06: 0.2, 0x0C: 0.1, 0x0D: 0.3}


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What distinguishes one module model from another, as the host can observe it."""

    name: str
    capacity: int
    template_size: int  # bytes of one template (UpChar)
    packet_code: int  # ReadSysPara packet-size code: 0..3 -> 32/64/128/256 bytes
    system_id: int
    instructions: frozenset[int]
    has_led: bool = False
    ready_byte: bool = False  # sends a lone 0x55 after power-on (R50x)
    latency: dict[int, float] = field(default_factory=lambda: dict(_LATENCY))


PROFILES: dict[str, ModelProfile] = {
    "zfm20": ModelProfile("zfm20", 162, 512, 2, 0x0000, _CLASSIC),
    "r307": ModelProfile("r307", 1000, 512, 2, 0x0009, _R30X),
    "as608": ModelProfile("as608", 300, 512, 2, 0x0000, _AS608),
    "r503": ModelProfile("r503", 200, 1536, 2, 0x0000, _R503, has_led=True, ready_byte=True),
    # A module that reports 64-byte data packets, like the one in Adafruit issue #30.
    "r307-64": ModelProfile("r307-64", 80, 512, 1, 0x0009, _R30X),
}


def get_profile(name: str) -> ModelProfile:
    """The profile called `name`. Raises KeyError naming the known profiles."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown module profile {name!r}; known: {', '.join(PROFILES)}") from None
