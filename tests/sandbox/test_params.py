"""The sandbox's authentication: the customerAuthenticator is compared in constant time."""

import hmac

import pytest

from sandbox import params
from sandbox.errors import SandboxError

EXPECTED = "900001,0123456789abcdef0123456789abcdef"


@pytest.fixture
def comparisons(monkeypatch):
    """Record every hmac.compare_digest call (and still compare)."""
    seen = []
    real = hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(params.hmac, "compare_digest", spy)
    return seen


def code_for(given: str) -> int | None:
    try:
        params.check_authenticator({"customerAuthenticator": given}, EXPECTED)
    except SandboxError as err:
        return err.code
    return None


def test_a_wrong_authenticator_is_refused_by_a_constant_time_comparison(comparisons):
    assert code_for(EXPECTED[:-1] + "0") == -2018
    assert comparisons == [((EXPECTED[:-1] + "0").encode(), EXPECTED.encode())]


def test_the_right_authenticator_passes_the_same_comparison(comparisons):
    assert code_for(EXPECTED) is None
    assert len(comparisons) == 1


def test_a_guess_in_any_script_is_refused_not_a_server_error():
    assert code_for("900001,ñ—😀") == -2018  # compare_digest refuses non-ASCII str; bytes it takes


def test_no_authenticator_is_minus_2017():
    with pytest.raises(SandboxError) as raised:
        params.check_authenticator({}, EXPECTED)
    assert raised.value.code == -2017
