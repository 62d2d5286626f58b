"""Token requests: the customerAuthenticator is compared in constant time, and each DRM reads its own
documented parameter table (research/expressplay-api.md sections 3-5), ignoring every other parameter."""

import hmac

import pytest

from sandbox import params
from sandbox.errors import SandboxError
from tests.toolkit.sandbox import valid

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


# --- each DRM's own parameter table ---------------------------------------------------------------------

NOW = 1_800_000_000
BINDS = ("pr",)
RENTAL_IN_PLAYREADY_TERMS = {
    "rightsType": "Rental",
    "rental__periodEndTime": "+3600",
    "rental__playDuration": "600",
    "generalFlags": None,
}


def claims_for(drm: str, binding_drms=BINDS, **changes):
    return params.token_claims(drm, valid(drm, **changes), binding_drms=binding_drms, now=NOW)


def refusal(drm: str, **changes) -> int:
    with pytest.raises(SandboxError) as raised:
        claims_for(drm, **changes)
    return raised.value.code


def no_limit(claims) -> bool:
    return (claims.rights_type, claims.period_end, claims.play_duration, claims.play_window) == (
        "",
        None,
        None,
        None,
    )


# PlayReady: unchanged.


def test_playready_requires_a_rights_type():
    assert refusal("pr", rightsType=None) == -2020


def test_a_playready_rental_carries_its_period_end_and_play_duration_in_playready_terms():
    claims = claims_for("pr", **RENTAL_IN_PLAYREADY_TERMS)
    assert (claims.rights_type, claims.period_end, claims.play_duration) == ("Rental", NOW + 3600, 600)
    assert claims.play_window == ("rental.playDuration", 600)


def test_playready_ignores_the_widevine_and_fairplay_limits():
    claims = claims_for("pr", licenseDuration="60", rentalDuration="60")
    assert (claims.license_duration, claims.rental_duration, claims.play_window) == (None, None, None)


def test_playready_general_flags_are_four_bytes_of_hex():
    assert claims_for("pr", generalFlags="00000001").drm == "pr"
    assert refusal("pr", generalFlags="0000") == -5003


# Widevine: no rightsType, no rental.*; licenseDuration is its limit.


def test_a_widevine_request_needs_no_rights_type_and_no_output_protection_levels():
    assert no_limit(claims_for("wv"))


def test_a_rental_sent_to_widevine_in_playready_terms_gives_a_token_without_a_limit():
    assert no_limit(claims_for("wv", **RENTAL_IN_PLAYREADY_TERMS))


@pytest.mark.parametrize("changes", [{"rightsType": "Lease"}, {"rightsType": "Rental"}])
def test_widevine_does_not_read_a_rights_type_even_an_invalid_one(changes):
    assert no_limit(claims_for("wv", **changes))  # not -2021 or -2022: an unknown parameter is ignored


def test_widevine_license_duration_is_its_play_window_in_seconds():
    claims = claims_for("wv", licenseDuration="3600")
    assert (claims.license_duration, claims.play_window) == (3600, ("licenseDuration", 3600))
    assert (claims.rights_type, claims.period_end, claims.play_duration) == ("", None, None)


def test_widevine_without_license_duration_plays_without_limit():
    assert claims_for("wv").license_duration is None


@pytest.mark.parametrize("value", ["0", "-5", "soon", "1.5", "+60", "²", "31104001"])
def test_an_invalid_widevine_license_duration_is_minus_7007(value):
    assert refusal("wv", licenseDuration=value) == -7007


def test_widevine_general_flags_may_only_be_0000():
    assert no_limit(claims_for("wv", generalFlags="0000"))


@pytest.mark.parametrize("flags", ["00000001", "00000000", "1", "zzzz", ""])
def test_any_other_widevine_general_flags_are_minus_5003(flags):
    assert refusal("wv", generalFlags=flags) == -5003


# FairPlay: iv required, rentalDuration its limit, generalFlags only 0000, no rightsType and no OPLs.


@pytest.mark.parametrize("iv", [None, "", "1234", "g" * 32, "0" * 33, "0" * 31])
def test_fairplay_needs_an_iv_of_32_hex(iv):
    assert refusal("fp", iv=iv) == -6003


def test_fairplay_rental_duration_defaults_to_0_which_is_no_limit():
    claims = claims_for("fp")
    assert (claims.rental_duration, claims.play_window) == (0, None)
    assert claims_for("fp", rentalDuration="0").rental_duration == 0


def test_fairplay_rental_duration_is_its_play_window_in_seconds_and_stays_in_the_token():
    claims = claims_for("fp", rentalDuration="7200")
    assert (claims.rental_duration, claims.play_window) == (7200, ("rentalDuration", 7200))
    assert (claims.rights_type, claims.period_end) == ("", None)  # counted from the first licence instead


@pytest.mark.parametrize("value", ["-1", "soon", "1.5", "+60", "", "²", "31104001"])
def test_an_invalid_fairplay_rental_duration_is_minus_6007(value):
    assert refusal("fp", rentalDuration=value) == -6007


def test_a_rental_sent_to_fairplay_in_playready_terms_gives_a_token_without_a_limit():
    claims = claims_for("fp", **RENTAL_IN_PLAYREADY_TERMS, analogVideoOPL="abc")
    assert no_limit(claims) and claims.rental_duration == 0  # rightsType, rental.* and OPLs are not read


def test_fairplay_general_flags_may_only_be_0000():
    assert claims_for("fp", generalFlags="0000").drm == "fp"
    assert refusal("fp", generalFlags="00000001") == -5003


# The device restriction, by the switch passed in.


@pytest.mark.parametrize(("drm", "code"), [("wv", -7002), ("fp", -6008)])
def test_a_device_restriction_is_refused_where_the_drm_does_not_bind(drm, code):
    assert refusal(drm, deviceid="ab" * 16) == code


@pytest.mark.parametrize("drm", ["pr", "wv", "fp"])
def test_a_device_restriction_is_carried_where_the_drm_binds(drm):
    assert claims_for(drm, binding_drms={drm}, deviceid="AB" * 16).device_id == "ab" * 16


def test_playready_refuses_a_device_restriction_when_it_does_not_bind():
    assert refusal("pr", binding_drms=(), deviceid="ab" * 16) == -5005
