"""The holder's fingerprint check with the reference from the central system: real central
(seeded SQLite ledger, 2 workers) and mosquitto, the kiosk's RPC client, and the emulated
module on a real pty. The template travels in memory only and is wiped after the check."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from drivers.fingerprint.emulator import finger_template
from drivers.personal import Masked, PersonalKind
from kiosk.clock import SystemClock
from kiosk.services.central_session import CentralSessionClient
from kiosk.services.fingerprint import (
    FingerprintReferenceError,
    NoFingerprintReferenceError,
    fetch_fingerprint_reference,
    verify_holder_fingerprint,
)
from kiosk.sync.errors import OfflineError, RpcRejectedError
from kiosk.sync.rpc import RpcClient
from tests.fixtures.central import TEST_HOLDER_ID, CentralHandle
from tests.fixtures.fingerprint import FingerprintRig
from tests.fixtures.soft_card import SoftCard, holder_soft_card
from tests.fixtures.sync_central import MiniCentral
from tests.integration.sync.conftest import Factory

HOLDER = Masked(TEST_HOLDER_ID, PersonalKind.ID_NUMBER)
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def _token(rpc: RpcClient, card: SoftCard | None = None) -> str:
    """The central session of the holder's (software) card: the reference needs it."""
    return (
        CentralSessionClient(rpc, SystemClock())
        .open(card or holder_soft_card(), pin_verified=False)
        .token
    )


def _enrol(central: CentralHandle, finger: str) -> bytes:
    """Give the test holder the emulator's template of `finger` at the central."""
    template = finger_template(finger)
    with central.db() as db, db.transaction():
        db.execute(
            "UPDATE persons SET finger_template = ? WHERE id_number = ?", (template, TEST_HOLDER_ID)
        )
    return template


def test_reference_from_the_central_matches_the_holders_finger(
    central: CentralHandle, make_sync: Factory, fp_rig: FingerprintRig
) -> None:
    enrolled = _enrol(central, "f03")
    sync, _ = make_sync()
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    with pytest.raises(RpcRejectedError) as refused:  # no session of the present card
        fetch_fingerprint_reference(sync.rpc, HOLDER, timeout=10)
    assert refused.value.remote_code == "forbidden"
    token = _token(sync.rpc)
    reference = fetch_fingerprint_reference(sync.rpc, HOLDER, timeout=10, token=token)
    assert bytes(reference.template) == enrolled and reference.finger in range(10)
    assert str(len(enrolled)) in repr(reference) and enrolled.hex()[:16] not in repr(reference)
    reference.wipe()
    assert reference.template == bytearray()
    fp_rig.emulator(finger="f03")
    scanner = fp_rig.driver()
    result = verify_holder_fingerprint(sync.rpc, scanner, HOLDER, rpc_timeout=10, token=token)
    assert result.matched and result.score > 0


def test_another_finger_does_not_match(
    central: CentralHandle, make_sync: Factory, fp_rig: FingerprintRig
) -> None:
    _enrol(central, "f03")
    sync, _ = make_sync()
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    fp_rig.emulator(finger="f01")
    result = verify_holder_fingerprint(
        sync.rpc, fp_rig.driver(), HOLDER, rpc_timeout=10, token=_token(sync.rpc)
    )
    assert not result.matched


def test_a_person_without_a_template_is_a_typed_error(
    central: CentralHandle, make_sync: Factory
) -> None:
    rows = central.query(
        "SELECT p.id_number, c.card_id, c.card_number FROM persons p JOIN cards c"
        " ON c.id_number = p.id_number WHERE p.finger_template IS NULL AND c.state = 'active'"
        " LIMIT 1"
    )
    sync, _ = make_sync()
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    token = _token(sync.rpc, SoftCard(bytes.fromhex(rows[0][1]), rows[0][2]))
    with pytest.raises(NoFingerprintReferenceError) as info:
        fetch_fingerprint_reference(
            sync.rpc, Masked(str(rows[0][0]), PersonalKind.ID_NUMBER), timeout=10, token=token
        )
    assert str(rows[0][0]) not in str(info.value)  # the message carries the masked number


def test_offline_refuses_at_once(make_sync: Factory, fp_rig: FingerprintRig) -> None:
    sync, _ = make_sync(start=False)
    fp_rig.emulator(finger="f03")
    with pytest.raises(OfflineError):
        verify_holder_fingerprint(sync.rpc, fp_rig.driver(), HOLDER, rpc_timeout=10)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda a: {**a, "sha256": hashlib.sha256(b"other").hexdigest()}, id="digest"),
        pytest.param(lambda a: {**a, "template_b64": a["template_b64"][:-8] + "!" * 8}, id="b64"),
        pytest.param(lambda a: {**a, "template_b64": "", "sha256": EMPTY_SHA}, id="empty"),
    ],
)
def test_a_corrupt_reference_never_reaches_the_scanner(
    mini_central: MiniCentral,
    make_sync: Factory,
    fp_rig: FingerprintRig,
    tamper: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """A central (or a path to it) that answers a template failing its integrity check: a typed
    error, and the scanner is never asked (no capture, no download)."""
    template = finger_template("f03")
    genuine = {
        "template_b64": base64.b64encode(template).decode(),
        "finger": 2,
        "sha256": hashlib.sha256(template).hexdigest(),
    }
    mini_central.fingerprint_answers[TEST_HOLDER_ID] = tamper(genuine)
    sync, _ = make_sync()
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    fp_rig.emulator(finger="f03")
    scanner = fp_rig.driver()
    commands = scanner.stats.commands
    with pytest.raises(FingerprintReferenceError) as info:
        verify_holder_fingerprint(sync.rpc, scanner, HOLDER, rpc_timeout=10)
    assert not isinstance(info.value, NoFingerprintReferenceError)
    assert scanner.stats.commands == commands
    mini_central.fingerprint_answers[TEST_HOLDER_ID] = genuine  # and the genuine one works
    assert verify_holder_fingerprint(sync.rpc, scanner, HOLDER, rpc_timeout=10).matched
