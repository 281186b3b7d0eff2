"""What admins read about the signing credentials: who they name, when they expire.

One read for the portal's "Signing credentials" screen and
``GET /api/v1/provenance/credentials/``. It reports the configured signing certificate
(subject, issuer, validity, days left, fingerprint, algorithm) and a warning from
``WARN_WITHIN_DAYS`` before expiry, so someone renews it before signing stops. It never
returns the private key, only facts about the certificate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509

from governance.provenance.credentials import load_credentials
from governance.provenance.errors import SigningUnavailable

#: Admins are warned this many days before the signing certificate expires.
WARN_WITHIN_DAYS = 30
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class CredentialStatus:
    """The signing certificate as admins see it (no key material)."""

    state: str  # ok, expiring, expired, not_yet_valid, unavailable
    summary: str
    subject: str = ""
    issuer: str = ""
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    days_left: int | None = None
    fingerprint: str = ""
    algorithm: str = ""
    timestamp_authority: bool = False
    problem: str = ""

    @property
    def warn(self) -> bool:
        """True when signing stops (or will soon): the page shows a warning."""
        return self.state != "ok"


def credential_status(now: dt.datetime | None = None) -> CredentialStatus:
    """Read the configured signing certificate and say whether it needs attention."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        creds = load_credentials()
    except SigningUnavailable as exc:
        return CredentialStatus(
            state="unavailable", problem=exc.message,
            summary="No usable signing credentials: approved assets cannot be signed "
                    "until a certificate and its key are installed.")
    leaf = x509.load_pem_x509_certificates(creds.chain_pem)[0]
    left = creds.not_after - now
    days_left = left // _DAY
    if now < creds.not_before:
        state = "not_yet_valid"
        summary = (f"The signing certificate is not valid until "
                   f"{creds.not_before:%Y-%m-%d %H:%M} UTC: nothing is signed before then.")
    elif left <= dt.timedelta(0):
        state = "expired"
        summary = (f"The signing certificate expired on {creds.not_after:%Y-%m-%d} UTC: "
                   "approved assets are not being signed. Install a new one.")
    elif left <= dt.timedelta(days=WARN_WITHIN_DAYS):
        state = "expiring"
        summary = (f"The signing certificate expires in {_days(days_left)} "
                   f"({creds.not_after:%Y-%m-%d} UTC). Renew it before then, or signing "
                   "stops.")
    else:
        state = "ok"
        summary = f"The signing certificate is valid for {_days(days_left)} more."
    return CredentialStatus(
        state=state, summary=summary, subject=creds.subject,
        issuer=leaf.issuer.rfc4514_string(), not_before=creds.not_before,
        not_after=creds.not_after, days_left=days_left, fingerprint=creds.fingerprint,
        algorithm=creds.alg, timestamp_authority=bool(creds.tsa_url))


def _days(count: int) -> str:
    if count < 1:
        return "less than a day"
    return "1 day" if count == 1 else f"{count} days"
