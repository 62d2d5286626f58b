"""The webhook client connects to the address it checked, within one deadline, and reads a bounded answer."""

import time

import pytest
from urllib3.util import connection

from api import webhook_client
from api.webhook_client import Refused, TimedOut, TransportError
from tests.webhook_receivers import Dribbler, Flood, Recorder, serve, tls_context_for

from .conftest import PUBLIC


def post(url, *, timeout=5.0, allow_loopback=False):
    return webhook_client.post(
        url,
        body=b"{}",
        headers={"Content-Type": "application/json"},
        timeout=timeout,
        allow_loopback=allow_loopback,
    )


@pytest.fixture
def connections(monkeypatch):
    """Where connections are opened (urllib3's create_connection, the edge), refused there: nothing leaves."""
    opened = []

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        raise ConnectionRefusedError("nothing listens in the tests")

    monkeypatch.setattr(connection, "create_connection", create_connection)
    return opened


def test_a_name_is_resolved_once_and_the_connection_goes_to_the_address_that_was_checked(dns, connections):
    # A rebinding DNS server: an address on the internet for the check, this machine for the next lookup.
    dns["rebind.example"] = [[PUBLIC], ["127.0.0.1"]]
    with pytest.raises(TransportError):
        post("https://rebind.example/hook")
    assert connections == [(PUBLIC, 443)]
    assert dns.asked.count("rebind.example") == 1


def test_a_name_with_any_address_inside_the_network_is_refused_before_connecting(dns, connections):
    dns["mixed.example"] = [PUBLIC, "10.1.2.3"]
    with pytest.raises(Refused, match="private network"):
        post("https://mixed.example/hook")
    assert connections == []


def test_a_name_that_does_not_resolve_is_refused(dns, connections):
    with pytest.raises(Refused, match="does not resolve"):
        post("https://nowhere.example/hook")
    assert connections == []


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254, the metadata service
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::a00:5",  # local-use NAT64
        "::ffff:169.254.169.254",  # IPv4-mapped
        "::ffff:0:a00:5",  # SIIT IPv4-translated 10.0.0.5
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "fd00::1",
        "fe80::1",
    ],
)
def test_a_name_resolving_to_an_ipv6_form_of_an_inside_address_is_refused(dns, connections, address):
    dns["hooks.example"] = [address]
    with pytest.raises(Refused):
        post("https://hooks.example/hook", allow_loopback=True)
    assert connections == []


def test_the_connection_names_the_host_in_host_sni_and_the_certificate_check(dns, tmp_path, monkeypatch):
    context, certificate = tls_context_for("hooks.example", tmp_path)
    server = serve(Recorder, tls=context)
    port = server.server_address[1]
    monkeypatch.setattr(webhook_client, "CA_BUNDLE", certificate)
    dns["hooks.example"] = ["127.0.0.1"]
    dns["other.example"] = ["127.0.0.1"]
    try:
        answer = post(f"https://hooks.example:{port}/hook", allow_loopback=True)
        assert answer.status == 204
        ((_at, headers, _body),) = server.received
        assert headers["Host"] == f"hooks.example:{port}" and context.sni_seen == ["hooks.example"]
        # The same address under another name: its certificate does not name it, so nothing is sent.
        with pytest.raises(TransportError, match="SSL"):
            post(f"https://other.example:{port}/hook", allow_loopback=True)
        assert len(server.received) == 1
    finally:
        server.shutdown()


def test_an_answer_is_read_only_so_far(dns):
    server = serve(Flood)
    try:
        started = time.monotonic()
        answer = post(f"{server.url}/hook", allow_loopback=True, timeout=5)
        assert time.monotonic() - started < 2
        assert answer.status == 200 and answer.body == "y" * webhook_client.KEEP
    finally:
        server.shutdown()


def test_one_deadline_covers_the_whole_send_even_for_an_answer_dribbled_a_byte_at_a_time(dns):
    server = serve(Dribbler, pace=0.2)  # each byte well within any per-read timeout
    try:
        started = time.monotonic()
        with pytest.raises(TimedOut, match=r"within 1\.0 s"):
            post(f"{server.url}/hook", allow_loopback=True, timeout=1.0)
        assert 1.0 <= time.monotonic() - started < 1.5
    finally:
        server.shutdown()
