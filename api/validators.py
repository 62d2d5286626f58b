"""Where Bindery may send a client's webhooks: the URL and address policy (SSRF), in one place.

The serializers check a URL when an endpoint is registered; the webhook client (api/webhook_client.py) checks
every address a name resolves to just before it connects, and connects to the address it checked. An IPv6
address that carries an IPv4 one (IPv4-mapped, -compatible and SIIT forms, 6to4, well-known NAT64) is judged
by the IPv4 address it reaches: `[::ffff:169.254.169.254]` is the metadata service, whatever its spelling.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")

# IPv6 prefixes whose last 32 bits are the IPv4 address reached (RFC 4291, RFC 6145, RFC 6052).
IPV4_IN_LAST_32_BITS = (
    ipaddress.ip_network("::ffff:0:0/96"),  # IPv4-mapped
    ipaddress.ip_network("::ffff:0:0:0/96"),  # SIIT IPv4-translated
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64, the well-known prefix
    ipaddress.ip_network("::/96"),  # IPv4-compatible (deprecated, still routed by some stacks)
)
# Translators whose IPv4 address cannot be read back reliably: refused outright.
TRANSLATORS_REFUSED = (
    ipaddress.ip_network("64:ff9b:1::/48"),  # NAT64 for local use: the IPv4 address may sit anywhere in it
    ipaddress.ip_network("2001::/32"),  # Teredo: a relay decides where it goes
)

NOT_HTTPS = _("the address is not HTTPS")
NO_HOST = _("the address has no host")
INSIDE = _("the address is inside a private network or this machine")
DOES_NOT_RESOLVE = _("the address's name does not resolve")


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address reaches through a translation or tunnel form, else None."""
    if address.version == 4:
        return None
    for network in IPV4_IN_LAST_32_BITS:
        if address in network and address != ipaddress.IPv6Address("::"):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour  # 2002:AABB:CCDD::/48 reaches AA.BB.CC.DD


def address_refusal(address: Address, *, loopback_ok: bool = False) -> str:
    """Return why Bindery will not connect to `address` ("" when it will): only addresses on the internet,
    never a private network, this machine, link-local (cloud metadata), multicast or reserved space;
    loopback only when `loopback_ok` (the demo and tests, WEBHOOK_ALLOW_LOOPBACK_HTTP)."""
    if any(address in network for network in TRANSLATORS_REFUSED):
        return str(INSIDE)
    if address.is_loopback and loopback_ok:  # 127/8 or ::1 itself, not a translated spelling of it
        return ""
    target = embedded_ipv4(address) or address
    if not target.is_global or target.is_multicast or target.is_reserved or target.is_unspecified:
        return str(INSIDE)
    return ""


def url_refusal(url: str, *, loopback_ok: bool = False) -> str:
    """Return why Bindery will not send to `url` ("" when it will), from the URL alone (no DNS): HTTPS only,
    plain HTTP only to this machine when `loopback_ok`, and an address literal must pass address_refusal.
    A name is checked again, by every address it resolves to, each time something is sent to it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https"):
        return str(NOT_HTTPS)
    if not host:
        return str(NO_HOST)
    if parts.scheme == "http" and not (loopback_ok and host in LOOPBACK_NAMES):
        return str(NOT_HTTPS)
    if host == "localhost" or host.endswith(".localhost"):
        return "" if loopback_ok else str(INSIDE)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        try:  # a legacy spelling the resolver still reads as an address: 2130706433, 0x7f.1, 127.1
            literal = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return ""  # a name: judged by what it resolves to, when sending
    return address_refusal(literal, loopback_ok=loopback_ok)


def endpoint_refusal(url: str) -> str:
    """url_refusal under this deployment's settings (WEBHOOK_ALLOW_LOOPBACK_HTTP)."""
    return url_refusal(url, loopback_ok=settings.WEBHOOK_ALLOW_LOOPBACK_HTTP)


def endpoint_url_allowed(url: str) -> bool:
    return not endpoint_refusal(url)
