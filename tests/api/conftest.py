"""Fixtures of the API's tests."""

import socket

import pytest

PUBLIC = "93.184.215.14"  # an address on the internet (nothing connects to it: HTTP is stubbed or refused)


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    """The resolver, faked at its edge (socket.getaddrinfo): a name in the returned dict answers its
    addresses (a list), or one list per lookup in turn (a list of lists); an address answers itself; any other
    name does not resolve. The lookups made are in `dns.asked`."""

    class Names(dict):
        asked: list[str]

    names = Names({"shop.example": [PUBLIC], "localhost": ["127.0.0.1"]})
    names.asked = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        names.asked.append(host)
        answers = names.get(host)
        if answers is None:
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
            except OSError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            answers = [host]
        elif answers and isinstance(answers[0], list):
            answers = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port or 0, 0, 0) if ":" in a else (a, port or 0),
            )
            for a in answers
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names
