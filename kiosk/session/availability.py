"""Which services the menu offers now, and why a service is not offered.

A service is absent when policy disables it or a device it needs is down (unless
`policy.show_unavailable`: then it is shown disabled with the device as the reason); it is shown
disabled with a reason when it is online only and the central is unreachable.
"""

from __future__ import annotations

from drivers.vocabulary import DeviceKind
from kiosk.session.model import MachineState, Policy
from kiosk.session.services import CARD_ONLY, IDCARD_LOOKUPS, ServiceId

__all__ = ["availability", "degraded"]


def availability(st: MachineState, pol: Policy) -> dict[str, str]:
    """service → '' (offered) or the message key of why not; disabled services are absent."""
    out: dict[str, str] = {}
    restricted = st.session is not None and st.session.restricted
    essc = st.session is not None and st.session.login == "essc"
    idcard = st.session is not None and st.session.login == "idcard"
    for service in ServiceId:
        name = service.value
        if name in pol.policy.disabled or (essc and name in CARD_ONLY):
            continue  # an e-SSC session cannot do what only the card can
        if idcard and name not in IDCARD_LOOKUPS:
            continue  # an ID card session looks records up, nothing more
        missing = _missing_devices(st, pol, name)
        if restricted and service is not ServiceId.LOSS_CANCEL:
            out[name] = "menu.reason.card_lost"
        elif missing:
            if not pol.policy.show_unavailable:
                continue  # hidden; the menu's notice says where to get it
            out[name] = f"menu.reason.device.{missing[0]}"
        elif not st.terminal.central_online and name not in pol.policy.offline:
            out[name] = "menu.reason.offline"
        else:
            out[name] = ""
    return out


def _missing_devices(st: MachineState, pol: Policy, name: str) -> list[str]:
    missing = [d for d in sorted(pol.policy.devices_for(name)) if not st.terminal.device_ok(d)]
    if (
        name == ServiceId.ACTIVATION
        and pol.policy.id_card_check == "id_card"
        and not st.terminal.reported_ok(DeviceKind.ID_CARD_READER)
    ):
        missing.append(DeviceKind.ID_CARD_READER.value)  # policy: the card, never typed
    return missing


def degraded(st: MachineState, pol: Policy) -> bool:
    """True when some service is not offered because one of its devices is down."""
    return any(
        _missing_devices(st, pol, service.value)
        for service in ServiceId
        if service.value not in pol.policy.disabled
    )
