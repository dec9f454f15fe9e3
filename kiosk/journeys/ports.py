"""The real ports of the session, built from the config, the agent (journal, RPC, payments)
and the devices the composition root started. Used by `KioskApp.init_session` (the agent and
the UI), `kiosk journey`, the demo, the benchmark and the end-to-end tests alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from drivers.camera.service import FaceVerifier
from drivers.camera.source import FrameSource
from drivers.fingerprint.driver import FingerprintDriver
from drivers.vocabulary import CardInserted as DeviceCardInserted
from drivers.vocabulary import CardRemoved as DeviceCardRemoved
from drivers.vocabulary import DeviceHealthChanged as DeviceHealthEvent
from kiosk.clock import Clock
from kiosk.config import KioskConfig
from kiosk.journal.store import Journal
from kiosk.journeys.adapters.card import ReaderCard
from kiosk.journeys.adapters.identity import CameraAndScanner, ReferenceSource
from kiosk.journeys.adapters.outbox import JournalAlerts, JournalOutbox
from kiosk.journeys.adapters.qr import CameraQr
from kiosk.journeys.adapters.services import CentralServices
from kiosk.services.payment import PaymentService
from kiosk.session import events as session_events
from kiosk.session.ports import IdCardPort, OutboxPort, Ports, PrinterPort
from kiosk.sync.rpc import RpcClient

__all__ = ["RealPorts", "build_ports", "device_to_session"]

log = logging.getLogger("kiosk.journeys.ports")


@dataclass(slots=True)
class RealPorts:
    """The bundle and its parts (the parts for tests, the benchmark and the card monitor)."""

    ports: Ports
    card: ReaderCard
    identity: CameraAndScanner
    services: CentralServices
    outbox: OutboxPort


def build_ports(
    config: KioskConfig,
    *,
    journal: Journal,
    rpc: RpcClient,
    payments: PaymentService,
    clock: Clock,
    fingerprint: FingerprintDriver | None,
    wake: Callable[[], None] = lambda: None,
    verifier: FaceVerifier | None = None,
    camera: FrameSource | None = None,
    wrap_outbox: Callable[[OutboxPort], OutboxPort] | None = None,
    printer: PrinterPort | None = None,
    id_card: IdCardPort | None = None,
) -> RealPorts:
    """Every port on the real devices and the central (the card reader and PSAM of
    `config.card` / `config.psam`, the camera of `config.camera`: the running `camera` of the
    composition root when given, else one opened for each check; the e-SSC QR scan uses it
    too). `printer` and `id_card`: the devices the composition root started
    (kiosk/printing.py `ReceiptPrinter`, kiosk/idcard.py `IdCardDevice`), None when the
    terminal has none."""
    card = ReaderCard(config, clock)
    refs = ReferenceSource(card_photo=card.photo)
    identity = CameraAndScanner(
        config.camera.to_settings(),
        config.face.to_settings(),
        fingerprint,
        refs,
        verifier=verifier,
        camera=camera,
    )
    services = CentralServices(rpc, journal, payments, clock, card, identity.proofs, wake=wake)
    refs.central_photo = services.reference_photo
    refs.template = services.reference_template
    refs.enroll = services.enroll_template
    outbox: OutboxPort = JournalOutbox(journal, wake=wake)
    if wrap_outbox is not None:
        outbox = wrap_outbox(outbox)
    alerts = JournalAlerts(journal, config.terminal, clock, wake=wake)
    qr = CameraQr(config.camera.to_settings, shared=camera)
    ports = Ports(
        card=card,
        identity=identity,
        services=services,
        outbox=outbox,
        alerts=alerts,
        printer=printer,
        id_card=id_card,
        qr=qr,
        essc=services,
        live_face=identity,
        idcard_session=services,
    )
    return RealPorts(ports, card, identity, services, outbox)


def device_to_session(event: object) -> session_events.Event | None:
    """The session's event for a device event of the card reader's monitor (or None)."""
    if isinstance(event, DeviceCardInserted):
        return session_events.CardInserted()
    if isinstance(event, DeviceCardRemoved):
        return session_events.CardRemoved()
    if isinstance(event, DeviceHealthEvent):
        return session_events.DeviceHealthChanged(kind=event.kind, health=event.health)
    return None
