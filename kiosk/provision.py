"""Provisioning a terminal: discover its devices, create its keys and certificate request,
write its config, and hand over to the doctor.

A technician runs `kiosk provision` once on a new or repaired terminal. Every step says what it
found; nothing is overwritten without `force`; secrets go to the credentials folder (mode 0600,
loaded by systemd `LoadCredential=`), never into the config file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drivers.camera.discovery import candidate_cameras, probe_camera
from drivers.card import reader as pcsc
from drivers.fingerprint.discovery import candidate_ports, probe_port
from drivers.idcard.discovery import probe_idcard
from drivers.printer.discovery import probe_printer
from kiosk.config import KioskConfig, load_config
from kiosk.config.terminal import Mode

__all__ = ["ProvisionError", "ProvisionPlan", "Provisioned", "provision"]

Say = Callable[[str], None]

JOURNAL_KEY = "journal-key"
CLIENT_KEY = "mqtt-client.key"
CLIENT_CSR = "mqtt-client.csr"
CLIENT_CERT = "mqtt-client.crt"  # the fleet CA's answer to the CSR, placed by the technician


class ProvisionError(RuntimeError):
    """Provisioning cannot go on; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ProvisionPlan:
    """What the technician asked for. Empty device fields mean: discover."""

    terminal_id: str
    broker_host: str = "127.0.0.1"
    broker_port: int = 8883
    site: str = ""
    mode: Mode = Mode.PRODUCTION
    tls: bool = True
    ca_file: str = "/etc/kiosk/credentials/fleet-ca.pem"
    output: Path = Path("/etc/kiosk/kiosk.toml")
    credentials_dir: Path = Path("/etc/kiosk/credentials")
    card_reader: str = ""
    psam_reader: str = ""
    fingerprint_port: str = ""
    camera: str = ""
    extra_serial_ports: tuple[str, ...] = ()
    force: bool = False


@dataclass(slots=True)
class Provisioned:
    """What was written."""

    config_file: Path
    credentials: list[Path] = field(default_factory=list)
    csr: Path | None = None
    warnings: list[str] = field(default_factory=list)


def _readers(plan: ProvisionPlan, say: Say, found: Provisioned) -> tuple[str, str]:
    readers = pcsc.list_readers()
    say("  readers: " + (", ".join(readers) if readers else "none"))
    if not readers:
        raise ProvisionError("no card reader: plug it in and check `systemctl status pcscd`")
    card = pcsc.pick_reader(readers, plan.card_reader) if plan.card_reader else readers[0]
    others = [r for r in readers if r != card]
    psam = pcsc.pick_reader(readers, plan.psam_reader) if plan.psam_reader else ""
    if not psam and others:
        psam = others[0]  # a dual-slot reader lists the SAM slot after the card slot
    if not psam:
        found.warnings.append("no PSAM slot found: cards cannot be authenticated")
    say(f"  card reader: {card}; PSAM: {psam or 'none'}")
    return card, psam


def _fingerprint(plan: ProvisionPlan, config: KioskConfig, say: Say, found: Provisioned) -> str:
    settings = config.fingerprint.to_settings()
    ports = (
        [plan.fingerprint_port]
        if plan.fingerprint_port
        else candidate_ports(list(plan.extra_serial_ports))
    )
    for port in ports:
        say(f"  probing {port} ...")
        info = probe_port(port, settings)
        if info is not None:
            say(f"  fingerprint module on {port}: capacity {info.capacity}")
            return port
    found.warnings.append("no fingerprint module answered: services that need it stay hidden")
    return plan.fingerprint_port or config.fingerprint.port


def _hall_devices(
    plan: ProvisionPlan, config: KioskConfig, fp_port: str, say: Say, found: Provisioned
) -> dict[str, Any]:
    """The ID card reader and the receipt printer on the serial ports the scanner did not take;
    a device nobody answers for is written as not fitted, so its services hide."""
    ports = [p for p in candidate_ports(list(plan.extra_serial_ports)) if p != fp_port]
    sections: dict[str, Any] = {}
    idcard = config.idcard.to_settings()
    for port in ports:
        sam = probe_idcard(port, idcard)
        if sam is not None:
            say(f"  ID card reader on {port}: SAM {sam}")
            sections["idcard"] = {"enabled": True, "port": port}
            ports.remove(port)
            break
    else:
        found.warnings.append("no ID card reader answered: written as not fitted")
        sections["idcard"] = {"enabled": False}
    printer = config.printer.to_settings()
    for port in ports:
        status = probe_printer(port, printer)
        if status is not None:
            say(f"  receipt printer on {port}: " + (", ".join(status.problems()) or "ready"))
            sections["printer"] = {"enabled": True, "port": port}
            break
    else:
        found.warnings.append("no receipt printer answered: written as not fitted (QR only)")
        sections["printer"] = {"enabled": False}
    return sections


def _camera(plan: ProvisionPlan, config: KioskConfig, say: Say, found: Provisioned) -> str:
    settings = config.camera.to_settings()
    for source in [plan.camera] if plan.camera else candidate_cameras():
        size = probe_camera(source, settings)
        if size is not None:
            say(f"  camera {source}: {size[0]}x{size[1]}")
            return source
        say(f"  {source}: no frames")
    found.warnings.append("no camera gave frames: the face check stays hidden")
    return plan.camera or config.camera.source


def _write_secret(path: Path, data: bytes, force: bool) -> None:
    if path.exists() and not force:
        raise ProvisionError(f"{path} exists: keep it, or run again with --force to replace it")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def _credentials(plan: ProvisionPlan, say: Say, found: Provisioned) -> None:
    folder = plan.credentials_dir
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    journal_key = folder / JOURNAL_KEY
    _write_secret(journal_key, secrets.token_hex(32).encode() + b"\n", plan.force)
    key = ec.generate_private_key(ec.SECP256R1())
    key_file = folder / CLIENT_KEY
    _write_secret(
        key_file,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        plan.force,
    )
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, plan.terminal_id)]
    if plan.site:
        subject.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, plan.site))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(subject))
        .sign(key, hashes.SHA256())
    )
    csr_file = folder / CLIENT_CSR
    csr_file.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    found.credentials += [journal_key, key_file]
    found.csr = csr_file
    say(f"  journal key and MQTT client key written to {folder} (mode 0600)")
    say(f"  certificate request for CN={plan.terminal_id}: {csr_file}")
    say(f"  -> have the fleet CA sign it and put the certificate at {folder / CLIENT_CERT}")


def _config_data(
    plan: ProvisionPlan, card: str, psam: str, fp_port: str, camera: str
) -> dict[str, Any]:
    mqtt: dict[str, Any] = {"host": plan.broker_host, "port": plan.broker_port, "tls": plan.tls}
    if plan.tls:
        mqtt.update(
            {
                "ca_file": plan.ca_file,
                "cert_file": str(plan.credentials_dir / CLIENT_CERT),
                "key_file": str(plan.credentials_dir / CLIENT_KEY),
            }
        )
    data: dict[str, Any] = {
        "terminal": {"id": plan.terminal_id, "mode": plan.mode.value, "site": plan.site},
        # Pinned by name: a production terminal must not pick up whatever reader appears.
        "card": {"reader": card},
        "fingerprint": {"port": fp_port},
        "camera": {"source": camera},
        "mqtt": mqtt,
    }
    if psam:
        data["psam"] = {"reader": psam}
    return data


def provision(plan: ProvisionPlan, say: Say = print) -> Provisioned:
    """Discover, create credentials, write and validate the config. Raises ProvisionError."""
    if plan.output.exists() and not plan.force:
        raise ProvisionError(f"{plan.output} exists: run again with --force to replace it")
    base = load_config(None, environ={}).config
    found = Provisioned(config_file=plan.output)
    say("1/4 card reader and PSAM")
    card, psam = _readers(plan, say, found)
    say("2/4 fingerprint scanner, ID card reader, receipt printer")
    fp_port = _fingerprint(plan, base, say, found)
    hall = _hall_devices(plan, base, fp_port, say, found)
    say("3/4 camera")
    camera = _camera(plan, base, say, found)
    say("4/4 credentials and config")
    _credentials(plan, say, found)
    plan.output.parent.mkdir(parents=True, exist_ok=True)
    text = "# Written by `kiosk provision`; see `kiosk config schema` for every key.\n"
    text += tomli_w.dumps({**_config_data(plan, card, psam, fp_port, camera), **hall})
    plan.output.write_text(text, encoding="utf-8")
    load_config(plan.output, environ={})  # the file we wrote must load (raises ConfigError)
    say(f"  config written to {plan.output}")
    for warning in found.warnings:
        say(f"  warning: {warning}")
    return found
