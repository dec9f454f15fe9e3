"""Broker security as shipped: the per-terminal ACL, and TLS with client certificates."""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.clock import SystemClock
from kiosk.contract import Channel, EventKind, PaymentPurpose, topic
from kiosk.services.payment import PaymentService
from kiosk.sync import SyncService
from tests.fixtures.broker import start_broker
from tests.fixtures.ports import free_port
from tests.fixtures.sync_central import MiniCentral
from tests.integration.sync.conftest import Factory
from tests.integration.sync.test_drain import wait_until

ROOT = Path(__file__).resolve().parents[3]
ACL = ROOT / "config" / "mosquitto" / "ssk.acl"


def raw_client(port: int, client_id: str) -> mqtt.Client:
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    c.connect("127.0.0.1", port)
    c.loop_start()
    assert wait_until(c.is_connected, 10)
    return c


def test_a_kiosk_cannot_publish_or_read_another_kiosks_topics(tmp_path: Path) -> None:
    folder = tmp_path / "broker"
    folder.mkdir()
    # The shipped ACL with %c: test clients are anonymous (no certificate, so no username) and
    # their client id is the terminal id, as it is the certificate CN in production.
    acl = folder / "ssk.acl"
    acl.write_text(ACL.read_text().replace("%u", "%c"))
    passwd = folder / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "central", "s3cret"], check=True)
    broker = start_broker(folder, f"acl_file {acl}\npassword_file {passwd}\n")
    central = MiniCentral(port=broker.port, username="central", password="s3cret")
    try:
        central.start()
        spy = raw_client(broker.port, "SSK-ACL-SPY")
        got: list[str] = []
        spy.on_message = lambda c, u, m: got.append(m.topic)
        spy.subscribe([(topic("SSK-ACL-B", Channel.CMD), 1), ("ssk/#", 1)])
        forger = raw_client(broker.port, "SSK-ACL-A")
        forged = [
            topic("SSK-ACL-B", Channel.EVENTS),
            topic("SSK-ACL-B", Channel.STATUS),
            topic("SSK-ACL-A", Channel.CMD),  # forging a command to itself
            topic("SSK-ACL-A", Channel.EVENT_RECEIPT),
        ]
        for name in forged:
            forger.publish(name, b"{}", qos=1).wait_for_publish(5)
        legit = forger.publish(topic("SSK-ACL-A", Channel.TELEMETRY), b"{}", qos=1)
        legit.wait_for_publish(5)
        central.send_command("SSK-ACL-B", b'{"not": "for the spy"}')
        time.sleep(0.5)  # let anything that would leak arrive
        assert got == []  # the spy (a kiosk) reads nothing, not even with ssk/#
        with central.lock:
            assert not central.events and not central.statuses  # nothing forged got through
        forger.loop_stop()
        forger.disconnect()
        spy.loop_stop()
        spy.disconnect()
    finally:
        central.stop()
        broker.stop()


def test_the_kiosk_stack_works_under_the_acl(tmp_path: Path, make_sync: Factory) -> None:
    folder = tmp_path / "acl-broker"
    folder.mkdir()
    acl = folder / "ssk.acl"
    acl.write_text(ACL.read_text().replace("%u", "%c"))
    passwd = folder / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "central", "pw"], check=True)
    broker = start_broker(folder, f"acl_file {acl}\npassword_file {passwd}\n")
    central = MiniCentral(port=broker.port, username="central", password="pw")
    try:
        central.start()
        sync, journal = make_sync("SSK-ACL-C", port=broker.port)
        assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
        msg = journal.enqueue_event(EventKind.AUDIT, {"under": "acl"})
        sync.wake()
        assert wait_until(lambda: journal.row_state(msg) == ("done", None))
    finally:
        central.stop()
        broker.stop()


# ---------------------------------------------------------------------- TLS


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        b = b.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return b.sign(issuer_key, hashes.SHA256())


def _write(
    folder: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    c, k = folder / f"{name}.pem", folder / f"{name}.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return c, k


def test_tls_with_a_client_certificate_and_refusal_of_a_wrong_one(
    tmp_path: Path, make_sync: Factory
) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("fleet-ca", ca_key, "fleet-ca", ca_key, ca=True)
    ca_pem, _ = _write(pki, "ca", ca, ca_key)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv_pem, srv_k = _write(
        pki, "broker", _cert("localhost", srv_key, "fleet-ca", ca_key, server=True), srv_key
    )
    good_key = ec.generate_private_key(ec.SECP256R1())
    good_pem, good_k = _write(
        pki, "good", _cert("SSK-TLS-0001", good_key, "fleet-ca", ca_key), good_key
    )
    rogue_ca_key = ec.generate_private_key(ec.SECP256R1())
    bad_key = ec.generate_private_key(ec.SECP256R1())
    bad_pem, bad_k = _write(
        pki, "bad", _cert("SSK-TLS-0002", bad_key, "rogue-ca", rogue_ca_key), bad_key
    )
    broker = start_broker(
        tmp_path / "tls-broker",
        f"cafile {ca_pem}\ncertfile {srv_pem}\nkeyfile {srv_k}\n"
        "require_certificate true\nuse_identity_as_username true\n",
    )
    try:
        tls = {"port": broker.port, "tls": True, "ca_file": str(ca_pem)}
        good, _ = make_sync("SSK-TLS-0001", cert_file=str(good_pem), key_file=str(good_k), **tls)
        assert good.transport.wait_connected(15)  # type: ignore[attr-defined]
        bad, _ = make_sync("SSK-TLS-0002", cert_file=str(bad_pem), key_file=str(bad_k), **tls)
        # Refused: give it several backoff rounds (test profile: ≤ 0.5 s each) to prove it.
        assert not bad.transport.wait_connected(3)  # type: ignore[attr-defined]
        assert bad.transport.last_error  # type: ignore[attr-defined]
        assert bad.counters()["connects"] == 0
    finally:
        broker.stop()


def test_the_shipped_acl_with_certificates_admits_the_payment_client(
    tmp_path: Path, make_sync: Factory
) -> None:
    """The ACL exactly as shipped (%u = certificate CN): the agent and `kiosk pay`'s auxiliary
    client (its own client id, the terminal's certificate) both work side by side."""
    pki = tmp_path / "pki"
    pki.mkdir()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_pem, _ = _write(pki, "ca", _cert("fleet-ca", ca_key, "fleet-ca", ca_key, ca=True), ca_key)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv_pem, srv_k = _write(
        pki, "broker", _cert("localhost", srv_key, "fleet-ca", ca_key, server=True), srv_key
    )
    kiosk_key = ec.generate_private_key(ec.SECP256R1())
    kiosk_pem, kiosk_k = _write(
        pki, "kiosk", _cert("SSK-TLS-0003", kiosk_key, "fleet-ca", ca_key), kiosk_key
    )
    folder = tmp_path / "acl-tls-broker"
    folder.mkdir()
    passwd = folder / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "central", "pw"], check=True)
    central_port = free_port()
    # Main listener: TLS with client certificates (the kiosks). A second, plain listener on
    # loopback lets the test central log in as `central` with a password.
    broker = start_broker(
        folder,
        f"cafile {ca_pem}\ncertfile {srv_pem}\nkeyfile {srv_k}\n"
        "require_certificate true\nuse_identity_as_username true\n"
        f"acl_file {ACL}\npassword_file {passwd}\n"
        f"listener {central_port} 127.0.0.1\n",
    )
    central = MiniCentral(port=central_port, username="central", password="pw")
    tls = {"port": broker.port, "tls": True, "ca_file": str(ca_pem)}
    try:
        central.start()
        agent, journal = make_sync(
            "SSK-TLS-0003", cert_file=str(kiosk_pem), key_file=str(kiosk_k), **tls
        )
        assert agent.transport.wait_connected(15)  # type: ignore[attr-defined]
        msg = journal.enqueue_event(EventKind.AUDIT, {"under": "shipped acl"})
        agent.wake()
        assert wait_until(lambda: journal.row_state(msg) == ("done", None))
        payer = SyncService(
            agent.config, journal, SystemClock(), software_version="cli", client_suffix="pay"
        )
        payer.start()
        try:
            assert payer.transport.wait_connected(15)  # type: ignore[attr-defined]
            outcome = PaymentService(journal, payer.rpc, SystemClock(), deadline_s=10).submit(
                id_number="11010519491231002X",
                card_number="",
                purpose=PaymentPurpose.UTILITY_BILL,
                reference="",
                amount_cents=321,
            )
        finally:
            payer.stop()
        assert outcome.state == "accepted"
        assert central.charges[outcome.payment_key] == 1
        assert agent.transport.disconnects == 0  # type: ignore[attr-defined]
    finally:
        central.stop()
        broker.stop()
