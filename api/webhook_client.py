"""HTTP to a client's webhook endpoint, and nothing else (no ORM, no settings: the caller passes them).

One POST, made so that an endpoint can neither reach inward nor hold a worker:

- **Resolved once, connected to what was checked.** The name is resolved once; every address it answers must
  pass api/validators.address_refusal, and a name without an address is refused. The connection then goes to
  the first of those very addresses (no second lookup a rebinding DNS server could answer differently), with
  the URL's host in `Host`, in TLS SNI and in the certificate check.
- **A total deadline.** Resolving, connecting, the TLS handshake, the answer's headers and its body share one
  deadline: a watchdog shuts the socket down when it passes, so an endpoint answering a byte a second is cut
  off on time (per-operation timeouts alone would wait for ever).
- **A bounded answer.** At most READ_CAP bytes are read, of which KEEP are kept: never the whole body.
- No redirects, no retries, no proxy or credentials from the environment.

docs/decisions/0014-webhook-connections.md says why this is not requests-hardened.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self, cast
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .validators import DOES_NOT_RESOLVE, address_refusal, url_refusal

KEEP = 1000  # characters of the answer kept (WebhookDelivery.response_body)
READ_CAP = 64 * 1024  # bytes of the answer read at most; the rest is never read
# requests.certs re-exports certifi's where(); the requests stubs leave it out.
CA_BUNDLE = requests.certs.where()  # type: ignore[attr-defined]


# One of getaddrinfo's answers. Its address is typed loosely: typeshed's (int, bytes) form is AF_PACKET's,
# which a SOCK_STREAM lookup never answers; for IPv4 and IPv6 the address's first item is the host.
_AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]


class WebhookSendError(Exception):
    """The POST did not get an answer; `str()` says why, for the delivery's record."""


class Refused(WebhookSendError):
    """Bindery will not connect there (SSRF policy, or a name that does not resolve)."""


class TimedOut(WebhookSendError):
    """The endpoint did not answer within the deadline."""


class TransportError(WebhookSendError):
    """Connecting, TLS or the answer failed."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: str  # the start of the answer, at most KEEP characters


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float, allow_loopback: bool) -> Answer:
    """POST `body` to `url` within `timeout` seconds in all, to an address checked by the SSRF policy.

    Return the status and the start of the answer (a 2xx whose body is cut off by the deadline is still an
    answer). Raise Refused, TimedOut or TransportError.
    """
    if refusal := url_refusal(url, loopback_ok=allow_loopback):
        raise Refused(refusal)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = _Deadline(timeout)
    adapter = _PinnedAdapter(deadline)
    try:
        with deadline:
            addresses = _resolve(host, port, deadline)
            for address in addresses:
                if refusal := address_refusal(address, loopback_ok=allow_loopback):
                    raise Refused(refusal)
            adapter.address = str(addresses[0])
            prepared = requests.Request("POST", url, data=body, headers=headers).prepare()
            # http.client would name the address it connects to; the endpoint's server knows its name.
            prepared.headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            remaining = max(deadline.remaining(), 0.001)
            response = adapter.send(prepared, stream=True, timeout=(remaining, remaining), verify=CA_BUNDLE)
            try:
                return Answer(response.status_code, _read_bounded(response))
            finally:
                response.close()
    except requests.RequestException as exc:
        if deadline.expired:
            raise TimedOut(
                _("the endpoint did not answer within %(seconds)s s") % {"seconds": timeout}
            ) from exc
        raise TransportError(f"{type(exc).__name__}: {exc}"[:300]) from exc
    finally:
        adapter.close()


def _resolve(
    host: str, port: int, deadline: _Deadline
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address `host` resolves to, once, within the deadline (getaddrinfo itself cannot be timed out:
    it runs in a thread of its own, left to finish alone if the deadline passes)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    found: list[_AddressInfo] = []  # filled once the lookup is over (empty when the name does not resolve)

    def lookup() -> None:
        with contextlib.suppress(OSError, UnicodeError):  # no address: refused below, as DOES_NOT_RESOLVE
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))

    resolver = threading.Thread(target=lookup, name="webhook-resolve", daemon=True)
    resolver.start()
    resolver.join(deadline.remaining())
    if resolver.is_alive():
        deadline.expired = True
        raise TimedOut(_("the endpoint's name did not resolve within the deadline"))
    addresses = []
    for _family, _type, _proto, _name, sockaddr in found:
        try:
            addresses.append(ipaddress.ip_address(sockaddr[0].split("%", 1)[0]))
        except ValueError:
            continue
    if not addresses:
        raise Refused(str(DOES_NOT_RESOLVE))
    return addresses


def _read_bounded(response: requests.Response) -> str:
    """The start of the answer: READ_CAP bytes read at most (as sent: nothing is decompressed), KEEP kept."""
    read, kept = 0, b""
    try:
        while read < READ_CAP:
            chunk = response.raw.read(min(4096, READ_CAP - read), decode_content=False)
            if not chunk:
                break
            read += len(chunk)
            kept = (kept + chunk)[: KEEP * 4]  # a UTF-8 character is 4 bytes at most
    except Exception as exc:  # cut off by the deadline or a broken connection: the status came, keep what did
        kept += f" [{type(exc).__name__}]".encode()
    return kept.decode("utf-8", errors="replace")[:KEEP]


class _Deadline:
    """One deadline for a whole send: at its end, every socket opened for it is shut down."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        # A duplicate of the descriptor: TLS takes the original socket over (and detaches it), but a shutdown
        # through the duplicate still ends the connection underneath.
        with self._lock:
            watched = sock.dup()
            self._sockets.append(watched)
            if self.expired:
                self._shutdown(watched)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # closed already
            sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _Watched(HTTPConnection):
    """A urllib3 connection whose socket the deadline can shut down (mixed in before HTTP(S)Connection)."""

    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._deadline.watch(sock)
        return sock


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _PinnedAdapter(HTTPAdapter):
    """Connects to `address` (set once it is checked), whatever the URL's host, which TLS still verifies."""

    def __init__(self, deadline: _Deadline):
        super().__init__(max_retries=0)
        self.address = ""
        self._deadline = deadline
        self._pools: list[HTTPConnectionPool] = []

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: tuple[str, str] | str | None = None,
    ) -> HTTPConnectionPool:
        parts = urlsplit(cast(str, request.url))  # post() prepared it from a URL: never None here
        pool: HTTPConnectionPool
        if not self.address:
            raise requests.ConnectionError("no checked address to connect to")
        if parts.scheme == "https":
            pool = _HTTPSPool(
                self.address,
                parts.port or 443,
                deadline=self._deadline,
                server_hostname=parts.hostname,  # SNI
                assert_hostname=parts.hostname,  # the certificate names the host, not the address
                cert_reqs="CERT_REQUIRED",
                ca_certs=CA_BUNDLE,
                maxsize=1,
            )
        else:
            pool = _HTTPPool(self.address, parts.port or 80, deadline=self._deadline, maxsize=1)
        self._pools.append(pool)
        return pool

    def close(self) -> None:
        for pool in self._pools:
            pool.close()
        super().close()
