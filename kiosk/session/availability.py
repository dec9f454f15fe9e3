"""Which services the menu offers now, and why a service is not offered.

A service is hidden (absent) when policy disables it; it is shown disabled with a reason when a
device it needs is down (and the citizen is told where to get help) or when it is online only
and the central is unreachable.
"""

from __future__ import annotations

from kiosk.session.model import MachineState, Policy
from kiosk.session.services import ServiceId

__all__ = ["availability"]


def availability(st: MachineState, pol: Policy) -> dict[str, str]:
    """service → '' (offered) or the message key of why not; disabled services are absent."""
    out: dict[str, str] = {}
    restricted = st.session is not None and st.session.restricted
    for service in ServiceId:
        name = service.value
        if name in pol.policy.disabled:
            continue
        missing = [d for d in sorted(pol.policy.devices_for(name)) if not st.terminal.device_ok(d)]
        if restricted and service is not ServiceId.LOSS_CANCEL:
            out[name] = "menu.reason.card_lost"
        elif missing:
            out[name] = f"menu.reason.device.{missing[0]}"
        elif not st.terminal.central_online and name not in pol.policy.offline:
            out[name] = "menu.reason.offline"
        else:
            out[name] = ""
    return out
