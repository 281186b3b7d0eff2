"""Signing credentials: the development CA made by init_signing, or files from settings.

Keys live on disk (ASSAY_SIGNING_DIR, or ASSAY_SIGNING_CERT/KEY from a Secret), never in
the database. Certificates carry what C2PA readers require (STACK-NOTES): the signing
certificate has KeyUsage digitalSignature, EKU emailProtection, an Authority Key
Identifier and CA:FALSE; the root has CA:TRUE and keyCertSign.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

from governance.provenance.errors import SigningUnavailable

log = logging.getLogger(__name__)

ROOT_CERT, ROOT_KEY = "root-ca.pem", "root-ca-key.pem"
SIGNER_CHAIN, SIGNER_KEY = "signer-chain.pem", "signer-key.pem"
ROOT_DAYS, SIGNER_DAYS, RENEW_WITHIN_DAYS = 3650, 365, 30
_NO_USAGE = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=False,
                 crl_sign=False, encipher_only=False, decipher_only=False)


@dataclass(frozen=True)
class Credentials:
    """A loaded chain and key, ready for c2pa's signer (which wants bytes)."""

    chain_pem: bytes
    key_pem: bytes
    alg: str
    fingerprint: str
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime
    tsa_url: str | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Assay (development)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, mode: int) -> None:
    """Atomic write with the mode set at creation (a key is never briefly world-readable)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def make_root(now: dt.datetime | None = None, days: int = ROOT_DAYS
              ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed ES256 root: CA:TRUE, keyCertSign."""
    now = now or _now()
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Assay Development Root CA")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(**{**_NO_USAGE, "key_cert_sign": True,
                                            "crl_sign": True}), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def make_signer(root: x509.Certificate, root_key: ec.EllipticCurvePrivateKey, *,
                not_before: dt.datetime, not_after: dt.datetime
                ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """An ES256 signing certificate issued by ``root`` with the extensions C2PA requires."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("Assay Content Signing"))
            .issuer_name(root.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(**{**_NO_USAGE, "digital_signature": True}),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    return cert, key


def write_signer(folder: Path, root: x509.Certificate, root_key: ec.EllipticCurvePrivateKey,
                 *, not_before: dt.datetime, not_after: dt.datetime) -> None:
    """Issue a signing certificate and store chain (leaf, root) and key (0600)."""
    cert, key = make_signer(root, root_key, not_before=not_before, not_after=not_after)
    _write(folder / SIGNER_KEY, _key_pem(key), 0o600)
    _write(folder / SIGNER_CHAIN, _pem(cert) + _pem(root), 0o644)


def init_dev_credentials(folder: Path, *, force: bool = False) -> list[str]:
    """Make (or reuse) the development root and signing certificate; returns what changed.

    Idempotent: existing files are kept; a signing certificate that expired or expires
    within 30 days is re-issued from the existing root.
    """
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    changed: list[str] = []
    now = _now()
    if force or not (folder / ROOT_CERT).exists() or not (folder / ROOT_KEY).exists():
        root, root_key = make_root(now)
        _write(folder / ROOT_KEY, _key_pem(root_key), 0o600)
        _write(folder / ROOT_CERT, _pem(root), 0o644)
        changed.append("root")
    else:
        root = x509.load_pem_x509_certificate((folder / ROOT_CERT).read_bytes())
        root_key = serialization.load_pem_private_key((folder / ROOT_KEY).read_bytes(), None)
    leaf_path = folder / SIGNER_CHAIN
    renew = "root" in changed or not leaf_path.exists() or not (folder / SIGNER_KEY).exists()
    if not renew:
        leaf = x509.load_pem_x509_certificates(leaf_path.read_bytes())[0]
        renew = leaf.not_valid_after_utc < now + dt.timedelta(days=RENEW_WITHIN_DAYS)
    if renew:
        write_signer(folder, root, root_key, not_before=now - dt.timedelta(minutes=5),
                     not_after=min(now + dt.timedelta(days=SIGNER_DAYS),
                                   root.not_valid_after_utc))
        changed.append("signer")
    return changed


def _alg_for(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algs = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in algs:
            return algs[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise SigningUnavailable("The signing key is not a kind C2PA signs with (EC P-256/384/"
                             "521, Ed25519 or RSA).")


def _paths() -> tuple[Path, Path]:
    if bool(settings.ASSAY_SIGNING_CERT) != bool(settings.ASSAY_SIGNING_KEY):
        raise SigningUnavailable("Set both ASSAY_SIGNING_CERT and ASSAY_SIGNING_KEY, or "
                                 "neither (development credentials).")
    folder = Path(settings.ASSAY_SIGNING_DIR)
    cert = settings.ASSAY_SIGNING_CERT or str(folder / SIGNER_CHAIN)
    key = settings.ASSAY_SIGNING_KEY or str(folder / SIGNER_KEY)
    return Path(cert), Path(key)


_cache: dict[tuple, Credentials] = {}


def load_credentials() -> Credentials:
    """The configured chain and key (cached per file version), not yet checked for time."""
    cert_path, key_path = _paths()
    try:
        stamp = (str(cert_path), cert_path.stat().st_mtime_ns, str(key_path),
                 key_path.stat().st_mtime_ns, settings.ASSAY_TSA_URL)
    except OSError:
        raise SigningUnavailable(
            f"No signing credentials at {cert_path}: run `manage.py init_signing` for "
            "development, or set ASSAY_SIGNING_CERT and ASSAY_SIGNING_KEY.") from None
    if stamp not in _cache:
        _cache.clear()
        _cache[stamp] = _read(cert_path, key_path)
    return _cache[stamp]


def _read(cert_path: Path, key_path: Path) -> Credentials:
    try:
        chain_pem, key_pem = cert_path.read_bytes(), key_path.read_bytes()
        leaf = x509.load_pem_x509_certificates(chain_pem)[0]
        key = serialization.load_pem_private_key(key_pem, None)
    except (OSError, ValueError) as exc:
        raise SigningUnavailable(f"The signing certificate or key cannot be read ({exc}).",
                                 ) from None
    return Credentials(
        chain_pem=chain_pem, key_pem=key_pem, alg=_alg_for(key),
        fingerprint=hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest(),
        subject=leaf.subject.rfc4514_string(), not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc, tsa_url=settings.ASSAY_TSA_URL or None)


def usable_credentials(now: dt.datetime | None = None) -> Credentials:
    """Credentials whose signing certificate is valid now; refuses otherwise.

    Checked before anything is written: without a timestamp authority a signature made
    outside the certificate's validity reads as Invalid everywhere.
    """
    creds = load_credentials()
    now = now or _now()
    if now < creds.not_before:
        raise SigningUnavailable(
            f"The signing certificate ({creds.subject}) is not valid until "
            f"{creds.not_before:%Y-%m-%d %H:%M} UTC; nothing was signed.")
    if now > creds.not_after:
        raise SigningUnavailable(
            f"The signing certificate ({creds.subject}) expired on "
            f"{creds.not_after:%Y-%m-%d %H:%M} UTC; nothing was signed. Install a new one "
            "(ASSAY_SIGNING_CERT/ASSAY_SIGNING_KEY) or run `manage.py init_signing`.")
    return creds


def trust_anchors_pem() -> str:
    """Roots a reader trusts: the development root (when present) and ASSAY_TRUST_ANCHORS."""
    parts: list[str] = []
    dev_root = Path(settings.ASSAY_SIGNING_DIR) / ROOT_CERT
    if dev_root.is_file():
        parts.append(dev_root.read_text())
    if settings.ASSAY_TRUST_ANCHORS:
        try:
            parts.append(Path(settings.ASSAY_TRUST_ANCHORS).read_text())
        except OSError as exc:
            log.warning("ASSAY_TRUST_ANCHORS cannot be read (%s); not trusted", exc)
    return "\n".join(p.strip() for p in parts if p.strip())
