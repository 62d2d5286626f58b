"""ExpressPlay error codes, each with what it means and what an operator can do about it.

Codes and meanings come from ExpressPlay's reference as excerpted in ../shared/research/expressplay-api.md
(section 8). Codes -4901 to -4999 are the Bindery sandbox's own: ExpressPlay does not document which code a
refused redemption carries for these cases, so the sandbox gives each one a code of its own rather than
blur them into -4001 (see docs/decisions/0002-sandbox-error-codes.md).
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ErrorCode:
    code: int
    meaning: str | Promise
    advice: str | Promise = ""
    sandbox_only: bool = False

    def __str__(self) -> str:
        return f"{self.code}: {self.meaning}"


_CHECK_REQUEST = _("Bindery built a request ExpressPlay refused; check the title's key data and the logs.")
_CHECK_ACCOUNT = _("Check the ExpressPlay account in the ExpressPlay admin dashboard.")

_CODES = [
    # Token requests: authentication and common parameters.
    ErrorCode(
        -2002,
        _("Bad expiration time."),
        _("expirationTime must be RFC 3339 UTC or +seconds, at most 30 days."),
    ),
    ErrorCode(-2003, _("Invalid IP address."), _CHECK_REQUEST),
    ErrorCode(-2005, _("Bad content key."), _("The title's content key is not valid; re-key the title.")),
    ErrorCode(-2008, _("Bad output-control flags."), _CHECK_REQUEST),
    ErrorCode(-2017, _("Customer authenticator missing."), _("Set EXPRESSPLAY_CUSTOMER_AUTHENTICATOR.")),
    ErrorCode(
        -2018,
        _("Customer authenticator invalid, or used on the wrong environment."),
        _(
            "A test authenticator was used on the production hosts or the reverse. Check "
            "EXPRESSPLAY_ENV against EXPRESSPLAY_CUSTOMER_AUTHENTICATOR."
        ),
    ),
    ErrorCode(
        -2019,
        _("Insufficient tokens available."),
        _("The account has no redemption credits left. Buy credits."),
    ),
    ErrorCode(-2020, _("Rights type missing."), _CHECK_REQUEST),
    ErrorCode(-2021, _("Rights type invalid."), _("rightsType must be BuyToOwn or Rental.")),
    ErrorCode(-2022, _("Rental period end time missing."), _("A rental needs rental.periodEndTime.")),
    ErrorCode(-2023, _("Rental play duration missing."), _CHECK_REQUEST),
    ErrorCode(
        -2025,
        _("Rental play duration invalid."),
        _("rental.playDuration must be a positive number of seconds."),
    ),
    ErrorCode(-2027, _("Content key must be 32 hexadecimal characters."), _("Re-key the title.")),
    ErrorCode(-2030, _("ExpressPlay administrative error."), _CHECK_ACCOUNT),
    ErrorCode(-2031, _("Service account disabled."), _CHECK_ACCOUNT),
    ErrorCode(-2033, _("Invalid cookie."), _("The correlation cookie must be at most 32 characters.")),
    ErrorCode(
        -2034, _("Output control value out of range."), _("Output protection levels run from 0 to 999.")
    ),
    ErrorCode(-2035, _("No corresponding value."), _CHECK_REQUEST),
    ErrorCode(-2036, _("Extension type malformed."), _CHECK_REQUEST),
    ErrorCode(-2037, _("Extension payload malformed."), _CHECK_REQUEST),
    ErrorCode(-2040, _("Output control flag must be 4 bytes."), _CHECK_REQUEST),
    ErrorCode(-3004, _("Invalid errorFormat."), _("errorFormat must be html or json.")),
    # Keys.
    ErrorCode(-4018, _("Key id (kid) missing."), _("The title has no key id; re-key the title.")),
    ErrorCode(-4019, _("Key storage fetch failed."), _("The key id is not in ExpressPlay Key Storage.")),
    ErrorCode(-4020, _("Key id too short."), _("A kid is 32 hexadecimal characters.")),
    ErrorCode(-4021, _("Key id too long."), _("A kid is 32 hexadecimal characters.")),
    ErrorCode(-4022, _("Invalid key id."), _("A kid is 32 hexadecimal characters.")),
    ErrorCode(-4024, _("Bad encrypted key (ek) or key-encryption key (kek)."), _CHECK_REQUEST),
    # Redemption (licence requests).
    ErrorCode(
        -4001,
        _("The device could not be authenticated."),
        _("The licence request carried no valid device identity. Ask the user to reload the player."),
    ),
    ErrorCode(
        -4010, _("Invalid token."), _("The token was altered or is not ExpressPlay's; issue a new one.")
    ),
    # PlayReady.
    ErrorCode(-5001, _("Bad unknownOutputBehavior."), _CHECK_REQUEST),
    ErrorCode(-5002, _("PlayReady is disabled for this account."), _CHECK_ACCOUNT),
    ErrorCode(-5003, _("Bad generalFlags."), _CHECK_REQUEST),
    ErrorCode(
        -5004,
        _("Device id must be 32 hexadecimal characters."),
        _("The device id from the records is malformed; refresh the device."),
    ),
    ErrorCode(-5005, _("Invalid device id."), _("Refresh the device from ExpressPlay records.")),
    ErrorCode(-5006, _("Output protection level missing."), _CHECK_REQUEST),
    ErrorCode(-5007, _("kek and contentKey both given."), _CHECK_REQUEST),
    # FairPlay.
    ErrorCode(-6001, _("Bad fpExtension."), _CHECK_REQUEST),
    ErrorCode(-6002, _("Bad token type."), _CHECK_REQUEST),
    ErrorCode(
        -6003, _("Bad initialisation vector (iv)."), _("The FairPlay iv must be 32 hexadecimal characters.")
    ),
    ErrorCode(
        -6004, _("FairPlay CKC generation failed."), _("Retry; if it persists, contact ExpressPlay support.")
    ),
    ErrorCode(-6005, _("Bad key data."), _CHECK_REQUEST),
    ErrorCode(-6006, _("Service not authorised for FairPlay."), _CHECK_ACCOUNT),
    ErrorCode(-6007, _("Bad rentalDuration."), _CHECK_REQUEST),
    ErrorCode(
        -6008,
        _("Device binding is not supported for FairPlay."),
        _("Issue FairPlay tokens without a device restriction, or bind with PlayReady."),
    ),
    ErrorCode(-6009, _("FairPlay is disabled for this account."), _CHECK_ACCOUNT),
    # Widevine.
    ErrorCode(
        -7002,
        _("Device binding is not supported for Widevine."),
        _("Issue Widevine tokens without a device restriction, or bind with PlayReady."),
    ),
    ErrorCode(-7003, _("Widevine securityLevel missing."), _CHECK_REQUEST),
    ErrorCode(-7004, _("Widevine securityLevel invalid."), _("securityLevel runs from 1 to 5.")),
    ErrorCode(-7006, _("Widevine hdcpOutputControl missing or invalid."), _CHECK_REQUEST),
    ErrorCode(-7007, _("Bad Widevine licenseDuration."), _CHECK_REQUEST),
    ErrorCode(
        -7008,
        _("Widevine licence generation failed."),
        _("Retry; if it persists, contact ExpressPlay support."),
    ),
    ErrorCode(-7009, _("Bad wvExtension."), _CHECK_REQUEST),
    ErrorCode(-7011, _("Widevine is disabled for this account."), _CHECK_ACCOUNT),
    # The sandbox's own redemption codes.
    ErrorCode(
        -4901, _("Token expired."), _("Issue a new token; buy-to-own tokens are re-issued on demand."), True
    ),
    ErrorCode(-4902, _("Rental period has ended."), _("The rental is over; the user can rent again."), True),
    ErrorCode(
        -4903,
        _("Play duration has ended."),
        _("The rental's viewing time after first play is used up."),
        True,
    ),
    ErrorCode(
        -4904,
        _("The requested key is not in this token."),
        _("The player asked for another title's key."),
        True,
    ),
    ErrorCode(
        -4905,
        _("The token is bound to another device."),
        _("The licence request came from a device other than the one the title is bound to."),
        True,
    ),
    ErrorCode(
        -4906,
        _("Malformed licence request."),
        _("The player sent a request the licence server cannot read."),
        True,
    ),
    ErrorCode(
        -4907,
        _("Several record selectors in one request."),
        _("Use one of cookie, id, or start+length."),
        True,
    ),
    ErrorCode(
        -4908,
        _("Licence request replayed."),
        _(
            "The same signed licence request was sent twice: someone captured and resent it, or a proxy retried it."
        ),
        True,
    ),
]

ERROR_CODES: dict[int, ErrorCode] = {error.code: error for error in _CODES}

# The code Bindery acts on by name: the licence server's "another device" refusal (the binding held).
DEVICE_MISMATCH = -4905


def explain(code: int | None) -> ErrorCode:
    """Return the catalogue entry for `code`, or a generic one for a code nobody documented."""
    if code is None:
        return ErrorCode(0, _("No ExpressPlay error code was given."), _("See the HTTP status and the logs."))
    return ERROR_CODES.get(
        code,
        ErrorCode(
            code, _("Undocumented ExpressPlay error."), _("Look the code up with ExpressPlay support.")
        ),
    )
