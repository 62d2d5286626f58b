"""The webhook address policy: HTTPS on the internet only, whatever the spelling of an inside address."""

import pytest

from api.validators import address_refusal, url_refusal


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[64:ff9b::a9fe:a9fe]/",  # NAT64, well-known prefix
        "https://[64:ff9b::7f00:1]/",
        "https://[64:ff9b:1::a00:1]/",  # NAT64, local-use prefix
        "https://[::ffff:a9fe:a9fe]/",  # IPv4-mapped
        "https://[::ffff:0:a9fe:a9fe]/",  # SIIT
        "https://[::ffff:0:7f00:1]/",
        "https://[::7f00:1]/",  # IPv4-compatible
        "https://[::a00:1]/",
        "https://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
        "https://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
        "https://[fe80::1]/",
        "https://[fd12::1]/",
        "https://[::]/",
        "https://100.64.0.1/",  # carrier-grade NAT
        "https://224.0.0.1/",  # multicast
        "https://0.0.0.0/",
        "https://2130706433/",  # 127.0.0.1, spelt as one number
        "https://0x7f.1/",
        "https://localhost/",
        "https://metadata.localhost/",
        "http://93.184.215.14/",
        "ftp://shop.example/",
        "https:///nohost",
    ],
)
def test_inside_addresses_in_any_spelling_and_plain_http_are_refused(url):
    assert url_refusal(url), url


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/hooks",
        "https://93.184.215.14/",
        "https://[2606:4700::1111]/",
        "https://[64:ff9b::5db8:d70e]/",  # NAT64 of 93.184.215.14: on the internet
        "https://[2002:5db8:d70e::1]/",  # 6to4 of the same
    ],
)
def test_addresses_on_the_internet_are_allowed(url):
    assert url_refusal(url) == ""


def test_loopback_only_when_allowed():
    import ipaddress

    assert url_refusal("http://127.0.0.1:8000/hook", loopback_ok=True) == ""
    assert url_refusal("http://127.0.0.1:8000/hook")
    assert address_refusal(ipaddress.ip_address("::1"), loopback_ok=True) == ""
    assert address_refusal(ipaddress.ip_address("169.254.169.254"), loopback_ok=True)
