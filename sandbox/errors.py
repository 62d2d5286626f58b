"""The error codes the sandbox answers with, as ExpressPlay's servers word them (English, like theirs)."""

MESSAGES = {
    -2002: "Bad expiration time",
    -2017: "Customer authenticator is missing",
    -2018: "Invalid customer authenticator, or authenticator of another environment",
    -2019: "Insufficient tokens",
    -2020: "Rights type is missing",
    -2021: "Invalid rights type",
    -2022: "Rental period end time is missing or invalid",
    -2025: "Invalid rental play duration",
    -2027: "Content key must be 32 hexadecimal characters",
    -2030: "Admin error",
    -2031: "Service account disabled",
    -2033: "Invalid cookie",
    -2034: "Output control value out of range",
    -2035: "No corresponding value",
    -3004: "Invalid errorFormat",
    -4001: "Device could not be authenticated",
    -4010: "Invalid token",
    -4018: "Missing kid",
    -4019: "Key storage fetch failed",
    -4020: "kid is too short",
    -4021: "kid is too long",
    -4022: "Invalid kid",
    -4024: "Invalid ek or kek",
    -4901: "Token expired",
    -4902: "Rental period has ended",
    -4903: "Rental play duration has ended",
    -4904: "Requested key is not in the token",
    -4905: "Device does not match the token's device restriction",
    -4906: "Malformed licence request",
    -4907: "Use only one record selector",
    -4908: "Licence request replayed",
    -5001: "Invalid unknownOutputBehavior",
    -5003: "Invalid generalFlags",
    -5004: "Device ID must be 32 hexadecimal characters long",
    -5005: "Invalid device ID",
    -5006: "Missing output protection level",
    -5007: "kek and contentKey are mutually exclusive",
    -6003: "Invalid iv",
    -6007: "Invalid rentalDuration",
    -6008: "Device ID binding is not supported for FairPlay",
    -7002: "Device ID binding is not supported for Widevine",
    -7003: "securityLevel is missing",
    -7004: "Invalid securityLevel",
    -7006: "hdcpOutputControl is missing or invalid",
    -7007: "Invalid licenseDuration",
}

# Authentication failures answer 401, argument errors 400 (ExpressPlay's documented mapping); refused
# redemptions answer 403.
_UNAUTHORISED = {-2017, -2018, -4001}
_REFUSED = {-4010, -4901, -4902, -4903, -4904, -4905, -4908}


class SandboxError(Exception):
    """An ExpressPlay error code with its HTTP status and message."""

    def __init__(self, code: int, detail: str = "", *, status: int | None = None):
        self.code = code
        self._status = status
        self.message = MESSAGES.get(code, "Error")
        self.detail = detail
        super().__init__(f"{code} {self.message}{': ' + detail if detail else ''}")

    @property
    def status(self) -> int:
        if self._status is not None:
            return self._status
        if self.code in _UNAUTHORISED:
            return 401
        if self.code in _REFUSED:
            return 403
        return 400
