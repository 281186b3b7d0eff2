"""Which webhook URLs Assay will call: http(s) to public addresses only (SSRF care).

An owner types the URL, and Assay's workers make the request from inside the network, so
a URL that reaches the database, the metadata service (169.254.169.254) or anything on
the private network is refused, when the endpoint is saved and again before each attempt
(the name may resolve elsewhere by then). ``ASSAY_WEBHOOK_ALLOW_LOOPBACK`` lets
127.0.0.1 / ::1 through for tests and the embedded mode. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from assay.core.exceptions import InvalidInput

MAX_URL_CHARS = 500


class UnreachableHost(Exception):
    """The host name did not resolve (maybe for now): worth another attempt later."""


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.is_loopback:
        return bool(settings.ASSAY_WEBHOOK_ALLOW_LOOPBACK) and str(ip) in ("127.0.0.1", "::1")
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, resolve: bool = True) -> str:
    """``url`` when Assay may POST to it; InvalidInput saying what to change otherwise.

    Raises:
        InvalidInput: not http(s), no host, or a host that is (or resolves to) a loopback,
            private, link-local or reserved address.
        UnreachableHost: the name does not resolve now (``resolve`` only).
    """
    url = (url or "").strip()
    refuse = "Use an http:// or https:// address of a server on the public internet"
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(f"The address is longer than {MAX_URL_CHARS} characters.",
                           errors={"url": [f"at most {MAX_URL_CHARS} characters"]})
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - raises ValueError on a bad [IPv6] literal
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{refuse}, e.g. https://hooks.example.com/assay.",
                           errors={"url": ["must start with http:// or https:// and name a "
                                           "host"]})
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidInput("The address has a port that is not a number from 1 to 65535.",
                           errors={"url": ["bad port"]}) from None
    host = parts.hostname
    if host == "localhost":
        host = "127.0.0.1"
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if not resolve:
            return url
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnreachableHost(f"The host {host} could not be found ({exc}).") from None
        addresses = sorted({info[4][0] for info in infos})
    blocked = [a for a in addresses if not _allowed(a)]
    if blocked:
        raise InvalidInput(f"{refuse}: {host} is a local or private address ({blocked[0]}), "
                           "which Assay does not call.",
                           errors={"url": ["local, private and reserved addresses are "
                                           "refused"]})
    return url
