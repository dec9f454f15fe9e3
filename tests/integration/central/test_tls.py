"""The central's workers on a mosquitto TLS listener with a client certificate (certs made here)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from central.config import BrokerConfig
from central.service import CentralService
from kiosk.contract import RpcMethod
from tests.fixtures.broker import start_broker
from tests.fixtures.central import TEST_HOLDER_ID, start_test_central
from tests.fixtures.ports import free_port
from tests.integration.central.kiosk_client import Kiosk


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(
    folder: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> None:
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    *,
    ca: bool = False,
    ip: str | None = None,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def test_workers_connect_over_tls_with_a_client_certificate(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    ca_key = _key()
    ca = _cert("test-ca", ca_key, ca=True)
    _write(pki, "ca", ca, ca_key)
    server_key, client_key = _key(), _key()
    _write(
        pki, "server", _cert("broker", server_key, ca.subject, ca_key, ip="127.0.0.1"), server_key
    )
    _write(pki, "central", _cert("central", client_key, ca.subject, ca_key), client_key)
    tls_port = free_port()
    broker = start_broker(
        tmp_path / "broker",
        extra_config=(
            f"listener {tls_port} 127.0.0.1\n"
            f"cafile {pki / 'ca.pem'}\ncertfile {pki / 'server.pem'}\n"
            f"keyfile {pki / 'server.key'}\n"
            "require_certificate true\nuse_identity_as_username true\n"
        ),
    )
    handle = start_test_central(tmp_path / "c", broker, workers=1)
    handle.service.stop()
    # Same client ids: the workers resume their sessions (a new id would leave the old sessions
    # in the shared group, and the broker would queue their share of requests for them).
    tls = BrokerConfig(
        host="127.0.0.1",
        port=tls_port,
        client_id_prefix=handle.config.broker.client_id_prefix,
        tls_ca_file=str(pki / "ca.pem"),
        tls_cert_file=str(pki / "central.pem"),
        tls_key_file=str(pki / "central.key"),
    )
    service = CentralService(handle.config.model_copy(update={"broker": tls}))
    kiosk = None
    try:
        service.start()  # raises TimeoutError if the TLS handshake or CONNECT failed
        kiosk = Kiosk(broker)  # the kiosk side on the plain loopback listener of the same broker
        token = kiosk.open_session()
        assert kiosk.call(RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, token=token)[
            "ok"
        ]
    finally:
        if kiosk is not None:
            kiosk.close()
        service.stop()
        broker.stop()
